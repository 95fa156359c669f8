/**
 * createBareGreedyLoop: the reference for Rein's decode-loop overhead — the plainest greedy loop over
 * an onnxruntime session (no scheduler, no sampling filters, no text, no events): prefill, argmax,
 * feed the token back with `present.*` as `past_key_values.*`. Benchmarks (tools/bench-backend.ts,
 * `rein bench serve`) run it side by side with the real backend on the same model and token count.
 * A batch of B identical prompts gives the static-batching upper bound.
 */
import fs from 'node:fs';
import * as ort from 'onnxruntime-node';
import { loadModelFolder } from './load-model-folder';
import { spinningConfig } from './session-worker';

export interface BareGreedyLoop {
  /** Greedy tokens after `promptIds` for each of `batch` copies; stops at `maxTokens` or (batch 1) EOS. */
  run(promptIds: number[], maxTokens: number, batch?: number): Promise<{ tokens: number[]; firstTokenMs: number; totalMs: number }>;
  close(): Promise<void>;
}

export async function createBareGreedyLoop(options: {
  dir: string;
  intraOpNumThreads?: number;
  intraOpSpinning?: boolean;
  executionProvider?: 'cpu' | 'cuda';
}): Promise<BareGreedyLoop> {
  const folder = loadModelFolder(options.dir);
  const sessionOptions: ort.InferenceSession.SessionOptions = {
    executionProviders: options.executionProvider === 'cuda' ? ['cuda', 'cpu'] : ['cpu'],
    graphOptimizationLevel: 'all',
  };
  if (options.intraOpNumThreads !== undefined) sessionOptions.intraOpNumThreads = options.intraOpNumThreads;
  // The same session settings as the backend's, so the two are compared on equal terms.
  const extra = spinningConfig(options.intraOpSpinning);
  if (extra) sessionOptions.extra = extra;
  const session = await ort.InferenceSession.create(fs.readFileSync(folder.onnxPath), sessionOptions);
  const pastNames = session.inputNames.filter((name) => name.startsWith('past_key_values.'));
  const presentNames = pastNames.map((name) => name.replace('past_key_values.', 'present.'));
  const usesPositionIds = session.inputNames.includes('position_ids');
  const eos = new Set(folder.eosTokenIds);

  return {
    async run(promptIds, maxTokens, batch = 1) {
      const started = performance.now();
      let firstTokenMs = 0;
      let past: ort.Tensor[] = pastNames.map(() => new ort.Tensor('float32', new Float32Array(0), [batch, folder.numKeyValueHeads, 0, folder.headDim]));
      let step = promptIds;
      let total = 0;
      const tokens: number[] = [];
      for (let index = 0; index < maxTokens; index++) {
        const length = step.length;
        const ids = new BigInt64Array(batch * length);
        const positions = new BigInt64Array(batch * length);
        for (let row = 0; row < batch; row++) {
          for (let column = 0; column < length; column++) {
            ids[row * length + column] = BigInt(step[column]);
            positions[row * length + column] = BigInt(total + column);
          }
        }
        const feeds: Record<string, ort.Tensor> = {
          input_ids: new ort.Tensor('int64', ids, [batch, length]),
          attention_mask: new ort.Tensor('int64', new BigInt64Array(batch * (total + length)).fill(1n), [batch, total + length]),
        };
        if (usesPositionIds) feeds.position_ids = new ort.Tensor('int64', positions, [batch, length]);
        pastNames.forEach((name, pastIndex) => {
          feeds[name] = past[pastIndex];
        });
        const results = await session.run(feeds);
        const logits = results.logits.data as Float32Array;
        const width = results.logits.dims[2];
        // Row 0 decides for every row (the rows are identical).
        const offset = (length - 1) * width;
        let best = 0;
        for (let token = 1; token < width; token++) if (logits[offset + token] > logits[offset + best]) best = token;
        if (index === 0) firstTokenMs = performance.now() - started;
        past = presentNames.map((name) => results[name]);
        total += length;
        if (batch === 1 && eos.has(best)) break;
        tokens.push(best);
        step = [best];
      }
      return { tokens, firstTokenMs, totalMs: performance.now() - started };
    },
    async close() {
      await session.release();
    },
  };
}
