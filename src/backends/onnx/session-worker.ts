/**
 * startSessionWorker: an onnxruntime-node InferenceSession that lives on its own worker thread.
 *
 * Why: onnxruntime-node 1.30 runs `session.run` synchronously on the calling thread (inside a
 * setImmediate), so a forward pass on the main thread blocks the gateway's event loop for its whole
 * duration — no HTTP, no SSE writes, no constraint masks meanwhile. On a worker, the event loop stays
 * free: the scheduler computes the next step's constraint masks while the model runs.
 *
 * Tensors cross as typed arrays and are transferred, not copied (the KV cache goes in and comes back
 * each step; the sender's copies are detached). The worker's code is plain JavaScript in a string, so it
 * runs the same from TypeScript sources (tests) and from dist/.
 *
 * `runAndSample` also hands the worker some rows to sample once the pass is done: it sends the outputs
 * back first and then samples those rows (with a sampler rebuilt from createSampler's source) while the event loop
 * samples the others, so a step's choosing is spread over two cores. Each row brings the draw its
 * sequence's generator would have given, so the tokens are the ones the event loop would have chosen.
 */
import { Worker } from 'node:worker_threads';
import { GatewayError } from '../../errors/gateway-error';
import { createSampler } from './sampler';

export type TensorType = 'float32' | 'int64';
export type TensorData = Float32Array | BigInt64Array;

export interface PlainTensor {
  type: TensorType;
  data: TensorData;
  dims: number[];
}

export interface TensorMetadata {
  name: string;
  type?: string;
  shape?: Array<number | string>;
}

export interface SessionWorkerOptions {
  executionProvider?: 'cpu' | 'cuda';
  intraOpNumThreads?: number;
  /**
   * Let onnxruntime's idle pool threads spin between operators (its own default). Off by default here:
   * a spinning pool takes the cores that the event loop needs for sampling and constraint masks between
   * forward passes — on a machine with few or busy cores it made a batch-16 step twice as slow.
   */
  intraOpSpinning?: boolean;
}

/** onnxruntime session config entries that turn spinning off (as SessionOptions.extra). */
export function spinningConfig(spinning: boolean | undefined): { session: Record<string, Record<string, string>> } | undefined {
  if (spinning) return undefined;
  return { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } };
}

/** One row of a pass's logits to sample on the worker (its last position), with its sampler settings. */
export interface RowSample {
  row: number;
  temperature: number;
  topK: number;
  topP: number;
  minP: number;
  repetitionPenalty: number;
  /** Tokens the repetition penalty applies to (empty when it is 1). */
  seen: number[];
  /** The draw in [0, 1) its sequence's generator gives for this token, taken beforehand. */
  draw: number;
}

export interface SampleJob {
  /** Logit columns from here on are padding, never sampled. */
  vocabularySize: number;
  rows: RowSample[];
}

export interface SessionWorker {
  readonly inputNames: string[];
  readonly outputNames: string[];
  readonly inputMetadata: TensorMetadata[];
  /** Runs the session; the feeds' buffers are transferred to the worker (detached here). */
  run(feeds: Record<string, PlainTensor>): Promise<Record<string, PlainTensor>>;
  /**
   * Runs the session, then samples `job.rows` on the worker: `outputs` settles first (the logits whole,
   * for the rows sampled here), `tokens` after, one per row of the job (-1: nothing allowed).
   * Only on a worker (absent inline).
   */
  runAndSample?(feeds: Record<string, PlainTensor>, job: SampleJob): { outputs: Promise<Record<string, PlainTensor>>; tokens: Promise<Int32Array> };
  close(): Promise<void>;
}

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const ort = require(workerData.ortPath);
let session = null;
// The sampler, rebuilt from createSampler's source (sampler.ts); null if that source does not run here
// (say, instrumented for coverage), and then this worker samples nothing.
let sampler = null;
try {
  sampler = new Function('return (' + workerData.samplerSource + ')')()();
} catch {
  sampler = null;
}
function sampleRows(job, rows, width) {
  const { applyRepetitionPenalty, sampleToken } = sampler;
  const tokens = new Int32Array(rows.length);
  const scratch = new Float32Array(width);
  job.rows.forEach((request, index) => {
    const row = rows[index];
    applyRepetitionPenalty(row, 0, request.seen, request.repetitionPenalty);
    for (let column = job.vocabularySize; column < width; column++) row[column] = -Infinity;
    tokens[index] = sampleToken(row, 0, job.vocabularySize, request, () => request.draw, scratch);
  });
  return tokens;
}
function errorText(error) {
  return error && error.message ? error.message : String(error);
}
function describe(list) {
  return Array.isArray(list) ? list.map((entry) => ({ name: entry.name, type: entry.type, shape: entry.shape })) : [];
}
parentPort.on('message', async (message) => {
  try {
    if (message.type === 'load') {
      const options = { executionProviders: message.executionProvider === 'cuda' ? ['cuda', 'cpu'] : ['cpu'], graphOptimizationLevel: 'all' };
      if (message.intraOpNumThreads !== undefined) options.intraOpNumThreads = message.intraOpNumThreads;
      if (message.extra !== undefined) options.extra = message.extra;
      session = await ort.InferenceSession.create(message.path, options);
      parentPort.postMessage({ id: message.id, ok: true, inputNames: session.inputNames, outputNames: session.outputNames,
        inputMetadata: describe(session.inputMetadata), samples: sampler !== null });
      return;
    }
    if (message.type === 'close') {
      if (session) await session.release();
      session = null;
      parentPort.postMessage({ id: message.id, ok: true });
      return;
    }
    const feeds = {};
    for (const name of Object.keys(message.feeds)) {
      const feed = message.feeds[name];
      feeds[name] = new ort.Tensor(feed.type, feed.data, feed.dims);
    }
    const results = await session.run(feeds);
    // Rows to sample here are copied out before the logits leave for the main thread.
    let rows = null;
    let width = 0;
    if (message.sample) {
      const dims = results.logits.dims;
      const length = dims[1];
      width = dims[2];
      rows = message.sample.rows.map((request) => {
        const offset = (request.row * length + length - 1) * width;
        return results.logits.data.slice(offset, offset + width);
      });
    }
    const outputs = {};
    const transfer = [];
    for (const name of Object.keys(results)) {
      let data = results[name].data;
      // Only whole buffers can be transferred; a view into a larger one is copied.
      if (data.byteOffset !== 0 || data.byteLength !== data.buffer.byteLength) data = data.slice();
      outputs[name] = { type: results[name].type, data, dims: Array.from(results[name].dims) };
      transfer.push(data.buffer);
    }
    parentPort.postMessage({ id: message.id, ok: true, outputs }, transfer);
    if (rows) {
      try {
        const tokens = sampleRows(message.sample, rows, width);
        parentPort.postMessage({ id: message.sampleId, ok: true, tokens }, [tokens.buffer]);
      } catch (error) {
        parentPort.postMessage({ id: message.sampleId, ok: false, error: errorText(error) });
      }
    }
  } catch (error) {
    if (message.sampleId !== undefined) parentPort.postMessage({ id: message.sampleId, ok: false, error: errorText(error) });
    parentPort.postMessage({ id: message.id, ok: false, error: errorText(error) });
  }
});
`;

interface Pending {
  resolve: (value: Record<string, unknown>) => void;
  reject: (error: Error) => void;
}

export async function startSessionWorker(modelPath: string, options: SessionWorkerOptions = {}): Promise<SessionWorker> {
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { ortPath: require.resolve('onnxruntime-node'), samplerSource: createSampler.toString() },
  });
  worker.unref();
  const pending = new Map<number, Pending>();
  let nextId = 1;
  let dead: Error | null = null;

  const failAll = (error: Error): void => {
    dead = error;
    for (const entry of pending.values()) entry.reject(error);
    pending.clear();
  };
  worker.on('message', (message: { id: number; ok: boolean; error?: string } & Record<string, unknown>) => {
    const entry = pending.get(message.id);
    if (!entry) return;
    pending.delete(message.id);
    if (pending.size === 0) worker.unref();
    if (message.ok) entry.resolve(message);
    else entry.reject(new Error(message.error ?? 'onnxruntime failed'));
  });
  worker.on('error', (error) => failAll(new GatewayError('internal_error', `onnxruntime worker failed: ${error.message}`, { cause: error })));
  worker.on('exit', (code) => {
    if (!dead) failAll(new GatewayError('unavailable', `onnxruntime worker exited (code ${code})`));
  });

  const expect = (id: number): Promise<Record<string, unknown>> =>
    new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject });
    });
  const call = (message: Record<string, unknown>, transfer: ArrayBuffer[] = []): Promise<Record<string, unknown>> => {
    if (dead) return Promise.reject(dead);
    const id = nextId++;
    const reply = expect(id);
    // While a call is pending the worker keeps the process alive; idle, it does not.
    worker.ref();
    worker.postMessage({ ...message, id }, transfer);
    return reply;
  };
  const transferList = (feeds: Record<string, PlainTensor>): ArrayBuffer[] => {
    const transfer: ArrayBuffer[] = [];
    const seen = new Set<ArrayBufferLike>();
    for (const name of Object.keys(feeds)) {
      const buffer = feeds[name].data.buffer;
      // Empty arrays and shared buffers are cloned, not transferred.
      if (buffer.byteLength > 0 && !seen.has(buffer) && Object.prototype.toString.call(buffer) === '[object ArrayBuffer]') {
        seen.add(buffer);
        transfer.push(buffer as ArrayBuffer);
      }
    }
    return transfer;
  };

  let loaded: Record<string, unknown>;
  try {
    loaded = await call({
      type: 'load',
      path: modelPath,
      executionProvider: options.executionProvider,
      intraOpNumThreads: options.intraOpNumThreads,
      extra: spinningConfig(options.intraOpSpinning),
    });
  } catch (error) {
    await worker.terminate();
    throw error;
  }

  const sessionWorker: SessionWorker = {
    inputNames: loaded.inputNames as string[],
    outputNames: loaded.outputNames as string[],
    inputMetadata: loaded.inputMetadata as TensorMetadata[],
    async run(feeds) {
      const result = await call({ type: 'run', feeds }, transferList(feeds));
      return result.outputs as Record<string, PlainTensor>;
    },
    async close() {
      if (!dead) {
        try {
          await call({ type: 'close' });
        } catch {
          // closing anyway
        }
      }
      dead = new GatewayError('unavailable', 'the model is closed');
      await worker.terminate();
    },
  };
  // Only where the worker could rebuild the sampler.
  if (loaded.samples === true) {
    sessionWorker.runAndSample = (feeds, job) => {
      if (dead) {
        const failed = Promise.reject(dead);
        failed.catch(() => {});
        return { outputs: failed, tokens: failed };
      }
      // The tokens' reply is registered before the run is sent, so it cannot arrive unclaimed.
      const sampleId = nextId++;
      const tokens = expect(sampleId).then((message) => message.tokens as Int32Array);
      tokens.catch(() => {});
      const outputs = call({ type: 'run', feeds, sample: job, sampleId }, transferList(feeds)).then((message) => message.outputs as Record<string, PlainTensor>);
      return { outputs, tokens };
    };
  }
  return sessionWorker;
}
