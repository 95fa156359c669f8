/**
 * startInlineSession: the same interface as startSessionWorker, but the onnxruntime session runs on the
 * calling thread. No thread hop per forward pass (cheaper per step, notably on an oversubscribed CPU),
 * at the price of blocking the event loop while the model runs — for benchmarks and one-shot CLI runs,
 * not for the server.
 */
import fs from 'node:fs';
import * as ort from 'onnxruntime-node';
import { spinningConfig, type PlainTensor, type SessionWorker, type SessionWorkerOptions, type TensorMetadata } from './session-worker';

export async function startInlineSession(modelPath: string, options: SessionWorkerOptions = {}): Promise<SessionWorker> {
  const sessionOptions: ort.InferenceSession.SessionOptions = {
    executionProviders: options.executionProvider === 'cuda' ? ['cuda', 'cpu'] : ['cpu'],
    graphOptimizationLevel: 'all',
  };
  if (options.intraOpNumThreads !== undefined) sessionOptions.intraOpNumThreads = options.intraOpNumThreads;
  const extra = spinningConfig(options.intraOpSpinning);
  if (extra) sessionOptions.extra = extra;
  const session = await ort.InferenceSession.create(fs.readFileSync(modelPath), sessionOptions);
  const metadata = (session as unknown as { inputMetadata?: TensorMetadata[] }).inputMetadata;
  return {
    inputNames: [...session.inputNames],
    outputNames: [...session.outputNames],
    inputMetadata: Array.isArray(metadata) ? metadata.map((entry) => ({ name: entry.name, type: entry.type, shape: entry.shape })) : [],
    async run(feeds) {
      const tensors: Record<string, ort.Tensor> = {};
      for (const name of Object.keys(feeds)) tensors[name] = new ort.Tensor(feeds[name].type, feeds[name].data, feeds[name].dims);
      const results = await session.run(tensors);
      const outputs: Record<string, PlainTensor> = {};
      for (const name of Object.keys(results)) {
        outputs[name] = { type: results[name].type as PlainTensor['type'], data: results[name].data as PlainTensor['data'], dims: [...results[name].dims] };
      }
      return outputs;
    },
    async close() {
      await session.release();
    },
  };
}
