/**
 * bench-backend: what Rein's embedded decode loop costs, measured against a bare onnxruntime greedy loop
 * on the same model in the same run (`npm run bench:backend -- [--model DIR] [--tokens N] [--runs N]
 * [--threads N] [--out FILE]`).
 *
 * Reports: greedy tokens/s at batch 1 (Rein vs bare; same tokens, checked identical), aggregate tokens/s
 * with 4 concurrent requests (Rein's continuous batching vs four bare loops one after another and a bare
 * static batch of 4), and time to first token for a 100-token prompt. Rein is measured with both
 * executors: `worker` (the server's: onnxruntime on a worker thread, one thread hop per step) and
 * `inline` (onnxruntime on the main thread, like the bare loop). On a shared, oversubscribed machine
 * wall-clock figures swing with other people's load, so the process's CPU time per token (all threads)
 * is reported beside them: it measures the work Rein adds, whatever the machine's load. Measurements
 * alternate between Rein and bare and the median of `--runs` is kept, so background load hits both
 * alike. Rein's time to first token includes tokenizing the prompt; the bare loop's starts from ids.
 * Default model: models/rein-demo when it exists, else the tiny Llama test fixture.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from '../src/cli/args';
import { createOnnxBackend } from '../src/backends/onnx/onnx-backend';
import { createBareGreedyLoop } from '../src/backends/onnx/bare-greedy-loop';
import type { BackendRequest } from '../src/backends/backend';

const ROOT = path.resolve(__dirname, fs.existsSync(path.resolve(__dirname, '..', 'package.json')) ? '..' : path.join('..', '..'));

/**
 * Candidate prompts. Greedy decoding stops at EOS, so the bench uses the four whose greedy
 * continuations run longest on this model (ideally the full --tokens), the same for Rein and bare.
 */
const CANDIDATE_PROMPTS = [
  'The gateway sits in front of a language model and',
  'Once upon a time',
  'In the morning the river was quiet and the boats',
  'It is a truth universally acknowledged',
  'A policy says which checks run and what happens when',
  'She opened the window, looked at the grey sky, and',
  'The old harbour town was',
  'Numbers such as 12, 345 and 6789 appear in',
];

/** Runs `work` and returns its result with the process's CPU milliseconds (user + system, all threads). */
async function withCpu<T>(work: () => Promise<T>): Promise<{ value: T; cpuMs: number }> {
  const before = process.cpuUsage();
  const value = await work();
  const used = process.cpuUsage(before);
  return { value, cpuMs: (used.user + used.system) / 1000 };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

function round(value: number, digits = 1): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

async function main(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { strings: ['model', 'tokens', 'runs', 'threads', 'out', 'prompt-tokens'] });
  const demo = path.join(ROOT, 'models', 'rein-demo');
  const modelDir = path.resolve(args.values.model ?? (fs.existsSync(path.join(demo, 'onnx', 'model.onnx')) ? demo : path.join(ROOT, 'tests', 'fixtures', 'models', 'tiny-llama')));
  const tokens = Number(args.values.tokens ?? 64);
  const runs = Number(args.values.runs ?? 5);
  const promptTarget = Number(args.values['prompt-tokens'] ?? 100);
  const threads = args.values.threads === undefined ? undefined : Number(args.values.threads);

  const backend = await createOnnxBackend({ modelDir, intraOpNumThreads: threads, maxBatchSize: 16, executor: 'worker' });
  const inlineBackend = await createOnnxBackend({ modelDir, intraOpNumThreads: threads, maxBatchSize: 16, executor: 'inline' });
  const bare = await createBareGreedyLoop({ dir: modelDir, intraOpNumThreads: threads });
  const modelId = backend.models()[0].id;
  const request = (prompt: string, maxTokens: number): BackendRequest => ({
    model: modelId, prompt, maxTokens, temperature: 0, topP: 1, topK: 0, minP: 0, repetitionPenalty: 1, seed: 0, stop: [], n: 1, stream: false,
  });
  const generate = async (prompt: string, maxTokens: number, which = backend): Promise<{ tokens: number[]; firstTokenMs: number; totalMs: number }> => {
    const started = performance.now();
    let firstTokenMs = 0;
    const ids: number[] = [];
    for await (const event of which.generate(request(prompt, maxTokens), new AbortController().signal)) {
      if (event.type === 'token-delta') {
        if (ids.length === 0) firstTokenMs = performance.now() - started;
        ids.push(...event.tokenIds);
      }
    }
    return { tokens: ids, firstTokenMs, totalMs: performance.now() - started };
  };
  const promptIds = (prompt: string): number[] => backend.model.encodePrompt({ prompt });

  // The four prompts whose greedy continuations are longest (ties: list order).
  await bare.run(promptIds(CANDIDATE_PROMPTS[0]), 4);
  const lengths: Array<[string, number]> = [];
  for (const prompt of CANDIDATE_PROMPTS) lengths.push([prompt, (await bare.run(promptIds(prompt), tokens)).tokens.length]);
  const PROMPTS = [...lengths].sort((left, right) => right[1] - left[1]).slice(0, 4).map(([prompt]) => prompt);

  // A prompt of about promptTarget tokens, for time to first token.
  let longPrompt = '';
  for (let index = 0; backend.countPromptTokens({ model: modelId, prompt: longPrompt }) < promptTarget; index++) {
    longPrompt += (index ? ' ' : '') + PROMPTS[index % PROMPTS.length].split(' ')[Math.floor(index / PROMPTS.length) % 8];
  }

  // Warm-up (first runs allocate and tune kernels).
  await generate(PROMPTS[0], 8);
  await generate(PROMPTS[0], 8, inlineBackend);
  await bare.run(promptIds(PROMPTS[0]), 8);

  const reinSingle: number[] = [];
  const inlineSingle: number[] = [];
  const inlineConcurrent: number[] = [];
  const inlineTtft: number[] = [];
  const bareSingle: number[] = [];
  const reinConcurrent: number[] = [];
  const bareSequential4: number[] = [];
  const bareBatch4: number[] = [];
  const reinTtft: number[] = [];
  const bareTtft: number[] = [];
  const cpuPerToken = { bare: [] as number[], rein: [] as number[], inline: [] as number[] };
  let identical = true;
  let generated = 0;
  let concurrentTokens = 0;

  for (let run = 0; run < runs; run++) {
    const bareTimed = await withCpu(() => bare.run(promptIds(PROMPTS[0]), tokens));
    const reinTimed = await withCpu(() => generate(PROMPTS[0], tokens));
    const bareResult = bareTimed.value;
    const reinResult = reinTimed.value;
    cpuPerToken.bare.push(bareTimed.cpuMs / bareResult.tokens.length);
    cpuPerToken.rein.push(reinTimed.cpuMs / reinResult.tokens.length);
    identical &&= JSON.stringify(bareResult.tokens) === JSON.stringify(reinResult.tokens);
    generated = reinResult.tokens.length;
    bareSingle.push((bareResult.tokens.length / bareResult.totalMs) * 1000);
    reinSingle.push((reinResult.tokens.length / reinResult.totalMs) * 1000);
    const inlineTimed = await withCpu(() => generate(PROMPTS[0], tokens, inlineBackend));
    const inlineResult = inlineTimed.value;
    cpuPerToken.inline.push(inlineTimed.cpuMs / inlineResult.tokens.length);
    identical &&= JSON.stringify(bareResult.tokens) === JSON.stringify(inlineResult.tokens);
    inlineSingle.push((inlineResult.tokens.length / inlineResult.totalMs) * 1000);

    let started = performance.now();
    const results = await Promise.all(PROMPTS.map((prompt) => generate(prompt, tokens)));
    concurrentTokens = results.reduce((sum, result) => sum + result.tokens.length, 0);
    reinConcurrent.push((concurrentTokens / (performance.now() - started)) * 1000);
    started = performance.now();
    const inlineResults = await Promise.all(PROMPTS.map((prompt) => generate(prompt, tokens, inlineBackend)));
    inlineConcurrent.push((inlineResults.reduce((sum, result) => sum + result.tokens.length, 0) / (performance.now() - started)) * 1000);

    started = performance.now();
    let sequentialTokens = 0;
    for (const prompt of PROMPTS) sequentialTokens += (await bare.run(promptIds(prompt), tokens)).tokens.length;
    bareSequential4.push((sequentialTokens / (performance.now() - started)) * 1000);

    const batchResult = await bare.run(promptIds(PROMPTS[0]), tokens, 4);
    bareBatch4.push(((batchResult.tokens.length * 4) / batchResult.totalMs) * 1000);

    bareTtft.push((await bare.run(promptIds(longPrompt), 1)).firstTokenMs);
    reinTtft.push((await generate(longPrompt, 1)).firstTokenMs);
    inlineTtft.push((await generate(longPrompt, 1, inlineBackend)).firstTokenMs);
  }

  const bareTps = median(bareSingle);
  const reinTps = median(reinSingle);
  const inlineTps = median(inlineSingle);
  const report = {
    model: modelId,
    model_dir: path.relative(ROOT, modelDir) || modelDir,
    threads: threads ?? 'default',
    runs,
    tokens_per_request: generated,
    greedy_tokens_identical: identical,
    batch1: {
      bare_tokens_per_s: round(bareTps),
      rein_tokens_per_s: round(reinTps),
      rein_overhead_pct: round((bareTps / reinTps - 1) * 100),
      rein_inline_tokens_per_s: round(inlineTps),
      rein_inline_overhead_pct: round((bareTps / inlineTps - 1) * 100),
      cpu_ms_per_token: { bare: round(median(cpuPerToken.bare), 3), rein: round(median(cpuPerToken.rein), 3), rein_inline: round(median(cpuPerToken.inline), 3) },
      rein_cpu_overhead_pct: round((median(cpuPerToken.rein) / median(cpuPerToken.bare) - 1) * 100),
      rein_inline_cpu_overhead_pct: round((median(cpuPerToken.inline) / median(cpuPerToken.bare) - 1) * 100),
    },
    load_average: os.loadavg().map((value) => round(value, 2)),
    concurrency4: {
      rein_tokens_per_s: round(median(reinConcurrent)),
      rein_inline_tokens_per_s: round(median(inlineConcurrent)),
      bare_sequential_tokens_per_s: round(median(bareSequential4)),
      bare_static_batch_tokens_per_s: round(median(bareBatch4)),
      tokens: concurrentTokens,
    },
    ttft_ms: {
      prompt_tokens: backend.countPromptTokens({ model: modelId, prompt: longPrompt }),
      bare: round(median(bareTtft), 2),
      rein: round(median(reinTtft), 2),
      rein_inline: round(median(inlineTtft), 2),
    },
  };

  const rows: string[][] = [
    ['measure', 'bare onnxruntime', 'rein (worker)', 'rein (inline)'],
    [`tokens/s, batch 1 (${generated} tokens)`, String(report.batch1.bare_tokens_per_s), `${report.batch1.rein_tokens_per_s} (${report.batch1.rein_overhead_pct}% overhead)`, `${report.batch1.rein_inline_tokens_per_s} (${report.batch1.rein_inline_overhead_pct}% overhead)`],
    ['CPU ms per token, batch 1 (all threads)', String(report.batch1.cpu_ms_per_token.bare), `${report.batch1.cpu_ms_per_token.rein} (${report.batch1.rein_cpu_overhead_pct}% overhead)`, `${report.batch1.cpu_ms_per_token.rein_inline} (${report.batch1.rein_inline_cpu_overhead_pct}% overhead)`],
    ['tokens/s, 4 concurrent (bare: sequential)', String(report.concurrency4.bare_sequential_tokens_per_s), String(report.concurrency4.rein_tokens_per_s), String(report.concurrency4.rein_inline_tokens_per_s)],
    ['tokens/s, bare static batch of 4', String(report.concurrency4.bare_static_batch_tokens_per_s), '-', '-'],
    [`time to first token, ${report.ttft_ms.prompt_tokens}-token prompt (ms)`, String(report.ttft_ms.bare), String(report.ttft_ms.rein), String(report.ttft_ms.rein_inline)],
  ];
  const widths = [0, 1, 2, 3].map((column) => Math.max(...rows.map((row) => row[column].length)));
  process.stdout.write(`model ${report.model_dir}, median of ${runs} runs, greedy tokens identical: ${identical}, load average ${report.load_average.join(' ')}\n`);
  for (const row of rows) process.stdout.write(`${row.map((cell, column) => cell.padEnd(widths[column])).join('  ')}\n`);
  if (args.values.out) fs.writeFileSync(args.values.out, `${JSON.stringify(report, null, 2)}\n`);
  await backend.close();
  await inlineBackend.close();
  await bare.close();
  return 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error) => {
      process.stderr.write(`bench-backend: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(2);
    },
  );
}
