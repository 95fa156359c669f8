/**
 * bench-sampler: what `sampleToken` costs per token on a model's real logits (`npm run bench:sampler --
 * [--model DIR] [--prompts N] [--steps N] [--temperature T] [--top-p P] [--top-k K] [--min-p M]
 * [--runs N] [--compare SAMPLER_JS]`).
 *
 * The logit rows come from the model itself (default models/rein-demo): the first `--prompts` of
 * `rein bench serve`'s prompts, each decoded for `--steps` sampled steps. Each run times one pass of
 * `sampleToken` over every row, repeated for about a second; the median of `--runs` is reported in µs
 * per token. `--compare` takes another build's compiled sampler (e.g.
 * `../rein-old/dist/src/backends/onnx/sampler.js`): the two take turns run by run on the same rows with
 * the same draws, and the share of tokens on which they agree is printed too.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from '../src/cli/args';
import { loadOnnxModel } from '../src/backends/onnx/onnx-model';
import { sampleToken, type SampleToken as Sampler, type SamplerSettings } from '../src/backends/onnx/sampler';
import { PROMPTS } from '../src/bench/serve-bench';
import { createSeededRandom } from '../src/backends/onnx/seeded-random';

const ROOT = path.resolve(__dirname, fs.existsSync(path.resolve(__dirname, '..', 'package.json')) ? '..' : path.join('..', '..'));

async function logitRows(dir: string, prompts: number, steps: number, settings: SamplerSettings): Promise<{ rows: Float32Array[]; size: number }> {
  const model = await loadOnnxModel({ dir, executor: 'inline' });
  try {
    const size = model.vocabulary.size;
    const rows: Float32Array[] = [];
    const scratch = new Float32Array(size);
    for (let prompt = 0; prompt < prompts; prompt++) {
      const random = createSeededRandom(prompt);
      let step = model.encodePrompt({ prompt: PROMPTS[prompt % PROMPTS.length] });
      let past = null;
      let columns = 0;
      for (let index = 0; index < steps; index++) {
        const length = step.length;
        const output = await model.forward({
          batch: 1,
          length,
          inputIds: BigInt64Array.from(step, BigInt),
          attentionMask: new BigInt64Array(columns + length).fill(1n),
          positionIds: BigInt64Array.from(step, (_, at) => BigInt(columns + at)),
          past,
        });
        const offset = (length - 1) * output.vocabWidth;
        const row = output.logits.slice(offset, offset + size);
        rows.push(row.slice());
        const token = sampleToken(row, 0, size, settings, random, scratch);
        past = output.presents;
        columns += length;
        if (token < 0 || model.eosTokenIds.includes(token) || columns >= model.contextLength - 1) break;
        step = [token];
      }
    }
    return { rows, size };
  } finally {
    await model.close();
  }
}

/** One pass over every row; returns the tokens. */
function pass(sampler: Sampler, rows: Float32Array[], size: number, settings: SamplerSettings, work: Float32Array, scratch: Float32Array): number[] {
  const random = createSeededRandom(42);
  return rows.map((row) => {
    work.set(row);
    return sampler(work, 0, size, settings, random, scratch);
  });
}

/** µs per token: passes repeated for about a second. */
function timed(sampler: Sampler, rows: Float32Array[], size: number, settings: SamplerSettings, work: Float32Array, scratch: Float32Array): number {
  const started = performance.now();
  let passes = 0;
  while (performance.now() - started < 1000) {
    pass(sampler, rows, size, settings, work, scratch);
    passes++;
  }
  return ((performance.now() - started) * 1000) / (passes * rows.length);
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2), { strings: ['model', 'prompts', 'steps', 'temperature', 'top-p', 'top-k', 'min-p', 'runs', 'compare'] });
  const number = (name: string, fallback: number): number => {
    const value = Number(args.values[name] ?? fallback);
    if (!Number.isFinite(value) || value < 0) throw new Error(`--${name} takes a number ≥ 0`);
    return value;
  };
  const settings: SamplerSettings = {
    temperature: number('temperature', 0.8),
    topP: number('top-p', 0.95),
    topK: Math.floor(number('top-k', 0)),
    minP: number('min-p', 0),
    repetitionPenalty: 1,
  };
  const runs = Math.max(1, Math.floor(number('runs', 5)));
  const dir = path.resolve(args.values.model ?? path.join(ROOT, 'models', 'rein-demo'));
  const { rows, size } = await logitRows(dir, Math.max(1, Math.floor(number('prompts', 4))), Math.max(1, Math.floor(number('steps', 60))), settings);
  const work = new Float32Array(size);
  const scratch = new Float32Array(size);
  const samplers: Array<[string, Sampler]> = [['this build', sampleToken]];
  if (args.values.compare) {
    const other = require(path.resolve(args.values.compare)) as { sampleToken: Sampler };
    samplers.push([args.values.compare, other.sampleToken]);
  }
  const times = samplers.map(() => [] as number[]);
  for (let run = 0; run < runs; run++) samplers.forEach(([, sampler], index) => times[index].push(timed(sampler, rows, size, settings, work, scratch)));
  process.stdout.write(`${rows.length} rows of ${size} logits from ${path.basename(dir)}; temperature ${settings.temperature}, top-p ${settings.topP}, top-k ${settings.topK}, min-p ${settings.minP}\n`);
  samplers.forEach(([name], index) => process.stdout.write(`${name}: ${median(times[index]).toFixed(1)} µs per token (runs: ${times[index].map((value) => value.toFixed(1)).join(', ')})\n`));
  if (samplers.length === 2) {
    const ours = pass(samplers[0][1], rows, size, settings, work, scratch);
    const theirs = pass(samplers[1][1], rows, size, settings, work, scratch);
    const same = ours.filter((token, index) => token === theirs[index]).length;
    process.stdout.write(`same token on ${same} of ${rows.length} rows (same draws)\n`);
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`bench-sampler: ${(error as Error).message}\n`);
    process.exit(2);
  },
);
