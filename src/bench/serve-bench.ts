/**
 * `rein bench serve` (SPEC.md §2, §6): serving throughput of the embedded backend with continuous
 * batching. At each concurrency level, that many clients send generations in a closed loop (the next
 * one as soon as the previous ends) for a fixed window (`--duration`, 5 s by default); tokens count
 * when delivered inside it, the requests still running at its end are cancelled, and the level's
 * tokens/s is those tokens over the window — so the level measures that many concurrent streams all
 * through. With `--requests N` instead, each client sends N generations (at least 16 requests per level
 * in all) and tokens/s is all completion tokens over the level's wall time; that includes the tail where
 * the last clients finish their last requests alone (demo-model requests that stop at once on EOS make
 * it long), so a level's figure is below its concurrency's. TTFT is measured per request (call → first
 * token delta). A plain single-sequence onnxruntime greedy loop on the same model, in the same run,
 * gives `bare_tokens_per_s`.
 *
 * `--constraint FILE` applies a grammar (`.gbnf`) or JSON Schema (`.json`) to every request, compiled
 * once against the model's vocabulary. The backend is driven in-process (no HTTP): this measures the
 * model, the scheduler and the constraint engine, not the gateway's request path.
 *
 * Usage: rein bench serve [--concurrency 1,4,16,64] [--constraint FILE] [--out FILE] [--model DIR]
 *        [--duration S | --requests N] [--max-tokens N] [--max-batch N] [--threads N] [--executor worker|inline]
 *        [--prefill-lane on|off]  (prompt prefills on a second session alongside decode steps; off by default)
 *        [--spinning on|off]  (onnxruntime's pool threads spin between operators; off by default)
 *        [--worker-sampling on|off]  (about half of each step's rows sampled on the model's worker; on by default)
 *        [--rounds N]  (with --duration: N windows per level, the levels taking turns — the order
 *                       reversed every other round — and each level's figures from its median window;
 *                       a noisy host moves one window, not the ratio between levels)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ArgError, parseArgs } from '../cli/args';
import { createOnnxBackend } from '../backends/onnx/onnx-backend';
import { createBareGreedyLoop } from '../backends/onnx/bare-greedy-loop';
import type { BackendRequest } from '../backends/backend';
import type { BatchStats } from '../backends/onnx/batch-scheduler';
import type { CompiledConstraint, ConstraintSpec } from '../decoding/constraint';
import { parseJson } from '../util/parse-json';

/** The bench's prompts (clients take them in turn); tools/bench-sampler.ts decodes them too. */
export const PROMPTS = [
  'The gateway sits in front of a language model and',
  'Write a short note about the river in the morning.',
  'A policy says which checks run, and',
  'Describe the old harbour town in two sentences.',
  'The audit trail records every decision so that',
  'List three things a careful reviewer would check:',
  'She opened the window and looked at the sky;',
  'Explain what a grammar constraint does.',
];

export interface ServeBenchLevel {
  concurrency: number;
  tokens_per_s: number;
  ttft_ms_p50: number;
  ttft_ms_p99: number;
  /** Requests completed (with --duration: completed inside the window). */
  requests: number;
  completion_tokens: number;
  wall_s: number;
  /** Decode steps at this level, the mean rows per step, and where the scheduler's time went (ms). */
  decode_steps: number;
  rows_per_step: number;
  scheduler_ms: { decode_forward: number; masks: number; prefill: number; prefill_wait: number; choose: number; rebuild: number };
  /** With --rounds: tokens/s of each window, in the order they ran; the other figures are the median window's. */
  tokens_per_s_rounds?: number[];
}

export interface ServeBenchResult {
  model: string;
  bare_tokens_per_s: number;
  levels: ServeBenchLevel[];
  constraint?: string;
  max_tokens: number;
  max_batch: number;
  executor: string;
  /** Seconds per level with --duration (absent: --requests per client). */
  duration_s?: number;
  /** Windows per level (--rounds; 1 unless asked). */
  rounds?: number;
  /** Whether prompt prefills ran on a session of their own, alongside decode steps. */
  prefill_lane: boolean;
  /** Whether onnxruntime's pool threads spun between operators. */
  spinning: boolean;
  /** Whether part of each step's rows were sampled on the model's worker. */
  worker_sampling: boolean;
  load_average: number[];
}

function percentile(values: number[], fraction: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1))];
}

const MIN_REQUESTS_PER_LEVEL = 16;
const DEFAULT_DURATION_S = 5;

const round = (value: number, digits = 1): number => Math.round(value * 10 ** digits) / 10 ** digits;

function repositoryRoot(): string {
  let dir = __dirname;
  for (let index = 0; index < 4; index++) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    dir = path.dirname(dir);
  }
  return process.cwd();
}

function constraintSpecFromFile(file: string): ConstraintSpec {
  const text = fs.readFileSync(file, 'utf8');
  if (file.endsWith('.gbnf')) return { type: 'grammar', grammar: text };
  if (file.endsWith('.json')) {
    const parsed = parseJson(text);
    if (!parsed.ok) throw new ArgError(`--constraint ${file}: not valid JSON (${parsed.error})`);
    return { type: 'json_schema', schema: parsed.value };
  }
  throw new ArgError(`--constraint ${file}: expected a .gbnf grammar or a .json schema`);
}

export async function runServeBench(options: {
  modelDir: string;
  concurrency: number[];
  maxTokens: number;
  requestsPerClient: number;
  /** Seconds per level (a fixed window, clients in a closed loop); unset: `requestsPerClient` requests each. */
  durationS?: number;
  /** Windows per level with durationS (default 1): levels take turns, and each level reports its median window. */
  rounds?: number;
  maxBatch: number;
  threads?: number;
  constraintFile?: string;
  executor?: 'worker' | 'inline';
  spinning?: boolean;
  prefillLane?: boolean;
  workerSampling?: boolean;
}): Promise<ServeBenchResult> {
  const backend = await createOnnxBackend({
    modelDir: options.modelDir,
    maxBatchSize: options.maxBatch,
    intraOpNumThreads: options.threads,
    maxWaitingJobs: 4096,
    executor: options.executor,
    intraOpSpinning: options.spinning,
    prefillLane: options.prefillLane,
    sampleOnWorker: options.workerSampling,
  });
  const bare = await createBareGreedyLoop({ dir: options.modelDir, intraOpNumThreads: options.threads, intraOpSpinning: options.spinning });
  try {
    const model = backend.models()[0].id;
    let constraint: CompiledConstraint | undefined;
    if (options.constraintFile) {
      // Loaded lazily: the constraint engine is only needed with --constraint.
      const { compileConstraint } = await import('../decoding/compile-constraint');
      constraint = compileConstraint(constraintSpecFromFile(options.constraintFile), undefined, backend.vocabulary(model));
    }
    const request = (index: number): BackendRequest => ({
      model,
      prompt: PROMPTS[index % PROMPTS.length],
      maxTokens: options.maxTokens,
      temperature: 0.8,
      topP: 0.95,
      topK: 0,
      minP: 0,
      repetitionPenalty: 1,
      seed: 1000 + index,
      stop: [],
      n: 1,
      stream: true,
      constraint,
    });

    // Bare reference: the same token budget, one sequence, greedy.
    await bare.run(backend.model.encodePrompt({ prompt: PROMPTS[0] }), 8);
    let bareTokens = 0;
    let bareMs = 0;
    for (let index = 0; index < 4; index++) {
      const result = await bare.run(backend.model.encodePrompt({ prompt: PROMPTS[index] }), options.maxTokens);
      bareTokens += result.tokens.length;
      bareMs += result.totalMs;
    }

    let counter = 0;
    const measureLevel = async (concurrency: number): Promise<ServeBenchLevel> => {
      const ttfts: number[] = [];
      let tokens = 0;
      let requests = 0;
      const before = backend.batchStats();
      let after: BatchStats | undefined;
      const started = performance.now();
      const durationMs = options.durationS !== undefined ? options.durationS * 1000 : undefined;
      const perClient = Math.max(options.requestsPerClient, Math.ceil(MIN_REQUESTS_PER_LEVEL / concurrency));
      // --duration: a fixed window in which every client keeps a request in flight; tokens count when
      // delivered inside it, and the requests still running at its end are cancelled.
      const inFlight = new Set<AbortController>();
      let windowOpen = true;
      const timer =
        durationMs === undefined
          ? undefined
          : setTimeout(() => {
              windowOpen = false;
              after = backend.batchStats();
              for (const controller of inFlight) controller.abort();
            }, durationMs);
      try {
        await Promise.all(
          Array.from({ length: concurrency }, async () => {
            for (let turn = 0; durationMs === undefined ? turn < perClient : windowOpen; turn++) {
              const sent = performance.now();
              let first = true;
              const controller = new AbortController();
              inFlight.add(controller);
              try {
                for await (const event of backend.generate(request(counter++), controller.signal)) {
                  if (event.type === 'token-delta') {
                    if (first) {
                      ttfts.push(performance.now() - sent);
                      first = false;
                    }
                    if (durationMs !== undefined && windowOpen) tokens += event.tokenIds.length;
                  }
                  if (event.type === 'choice-end' && durationMs === undefined) tokens += event.completionTokens;
                }
                if (windowOpen) requests++;
              } catch (error) {
                if ((error as Error).name !== 'AbortError' || windowOpen) throw error;
              } finally {
                inFlight.delete(controller);
              }
            }
          }),
        );
      } finally {
        if (timer) clearTimeout(timer);
      }
      const wall = durationMs !== undefined ? durationMs / 1000 : (performance.now() - started) / 1000;
      after ??= backend.batchStats();
      const steps = after.steps - before.steps;
      const level: ServeBenchLevel = {
        concurrency,
        tokens_per_s: round(tokens / wall),
        ttft_ms_p50: round(percentile(ttfts, 0.5), 2),
        ttft_ms_p99: round(percentile(ttfts, 0.99), 2),
        requests,
        completion_tokens: tokens,
        wall_s: round(wall, 3),
        decode_steps: steps,
        rows_per_step: round(steps > 0 ? (after.rowSteps - before.rowSteps) / steps : 0, 2),
        scheduler_ms: {
          decode_forward: round(after.forwardMs - before.forwardMs),
          masks: round(after.maskMs - before.maskMs),
          prefill: round(after.prefillMs - before.prefillMs),
          prefill_wait: round(after.prefillWaitMs - before.prefillWaitMs),
          choose: round(after.chooseMs - before.chooseMs),
          rebuild: round(after.rebuildMs - before.rebuildMs),
        },
      };
      // Let the cancelled requests leave the batch before the next level starts.
      while (backend.load().running + backend.load().waiting > 0) await new Promise((resolve) => setTimeout(resolve, 1));
      return level;
    };

    const rounds = options.durationS !== undefined ? Math.max(1, Math.floor(options.rounds ?? 1)) : 1;
    const windows = new Map<number, ServeBenchLevel[]>(options.concurrency.map((concurrency) => [concurrency, []]));
    for (let turn = 0; turn < rounds; turn++) {
      const order = turn % 2 === 0 ? options.concurrency : [...options.concurrency].reverse();
      for (const concurrency of order) windows.get(concurrency)!.push(await measureLevel(concurrency));
    }
    const levels = options.concurrency.map((concurrency) => {
      const list = windows.get(concurrency)!;
      if (rounds === 1) return list[0];
      const median = [...list].sort((a, b) => a.tokens_per_s - b.tokens_per_s)[(list.length - 1) >> 1];
      return { ...median, tokens_per_s_rounds: list.map((level) => level.tokens_per_s) };
    });
    return {
      model,
      bare_tokens_per_s: round((bareTokens / bareMs) * 1000),
      levels,
      constraint: options.constraintFile,
      max_tokens: options.maxTokens,
      max_batch: options.maxBatch,
      executor: options.executor ?? 'worker',
      spinning: options.spinning === true,
      prefill_lane: backend.model.prefillLane,
      worker_sampling: backend.sampleOnWorker,
      ...(options.durationS !== undefined ? { duration_s: options.durationS, rounds } : {}),
      load_average: os.loadavg().map((value) => round(value, 2)),
    };
  } finally {
    await backend.close();
    await bare.close();
  }
}

export async function run(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseArgs(argv, { strings: ['concurrency', 'constraint', 'out', 'model', 'max-tokens', 'requests', 'max-batch', 'threads', 'executor', 'spinning', 'duration', 'prefill-lane', 'rounds', 'worker-sampling'] });
  } catch (error) {
    process.stderr.write(`rein bench serve: ${(error as Error).message}\n`);
    return 2;
  }
  const root = repositoryRoot();
  const concurrency = (args.values.concurrency ?? '1,4,16,64').split(',').map((value) => Number(value.trim()));
  const numbers = { maxTokens: Number(args.values['max-tokens'] ?? 64), requests: Number(args.values.requests ?? 2), maxBatch: Number(args.values['max-batch'] ?? 16) };
  const bad = [...concurrency, numbers.maxTokens, numbers.requests, numbers.maxBatch].some((value) => !Number.isInteger(value) || value < 1 || value > 4096);
  if (bad) {
    process.stderr.write('rein bench serve: --concurrency, --max-tokens, --requests and --max-batch take positive integers\n');
    return 2;
  }
  const executor = args.values.executor ?? 'worker';
  if (executor !== 'worker' && executor !== 'inline') {
    process.stderr.write('rein bench serve: --executor takes worker or inline\n');
    return 2;
  }
  if (args.values.duration !== undefined && args.values.requests !== undefined) {
    process.stderr.write('rein bench serve: --duration and --requests exclude each other\n');
    return 2;
  }
  // A fixed window per level unless --requests asks for a request count per client.
  const duration = args.values.requests !== undefined ? undefined : Number(args.values.duration ?? DEFAULT_DURATION_S);
  if (duration !== undefined && !(Number.isFinite(duration) && duration > 0 && duration <= 600)) {
    process.stderr.write('rein bench serve: --duration takes seconds, more than 0 and at most 600\n');
    return 2;
  }
  const rounds = Number(args.values.rounds ?? 1);
  if (!Number.isInteger(rounds) || rounds < 1 || rounds > 50) {
    process.stderr.write('rein bench serve: --rounds takes an integer from 1 to 50\n');
    return 2;
  }
  if (rounds > 1 && duration === undefined) {
    process.stderr.write('rein bench serve: --rounds needs --duration windows (not --requests)\n');
    return 2;
  }
  const onOff = (name: string): boolean | undefined | null => {
    const value = args.values[name];
    if (value === undefined) return undefined;
    if (value === 'on' || value === 'off') return value === 'on';
    process.stderr.write(`rein bench serve: --${name} takes on or off\n`);
    return null;
  };
  const spinning = onOff('spinning');
  const prefillLane = onOff('prefill-lane');
  const workerSampling = onOff('worker-sampling');
  if (spinning === null || prefillLane === null || workerSampling === null) return 2;
  const modelDir = path.resolve(args.values.model ?? path.join(root, 'models', 'rein-demo'));
  try {
    const result = await runServeBench({
      modelDir,
      concurrency,
      maxTokens: numbers.maxTokens,
      requestsPerClient: numbers.requests,
      durationS: duration,
      rounds,
      maxBatch: numbers.maxBatch,
      threads: args.values.threads === undefined ? undefined : Number(args.values.threads),
      constraintFile: args.values.constraint,
      executor,
      spinning: spinning ?? false,
      prefillLane,
      workerSampling,
    });
    process.stdout.write(`model ${result.model}, executor ${result.executor}, prefill lane ${result.prefill_lane ? 'on' : 'off'}, spinning ${result.spinning ? 'on' : 'off'}, worker sampling ${result.worker_sampling ? 'on' : 'off'}, bare ${result.bare_tokens_per_s} tokens/s, load average ${result.load_average.join(' ')}\n`);
    process.stdout.write('concurrency  tokens/s  ttft p50 ms  ttft p99 ms  rows/step  ms in decode passes / prefills (waited for) / choosing / cache rebuilds\n');
    for (const level of result.levels) {
      const time = level.scheduler_ms;
      process.stdout.write(
        `${String(level.concurrency).padEnd(11)}  ${String(level.tokens_per_s).padEnd(8)}  ${String(level.ttft_ms_p50).padEnd(11)}  ${String(level.ttft_ms_p99).padEnd(11)}  ` +
          `${String(level.rows_per_step).padEnd(9)}  ${time.decode_forward} / ${time.prefill} (${time.prefill_wait}) / ${time.choose} / ${time.rebuild}` +
          `${level.tokens_per_s_rounds ? `  (windows: ${level.tokens_per_s_rounds.join(', ')} tokens/s; the median's figures)` : ''}\n`,
      );
    }
    if (args.values.out) fs.writeFileSync(args.values.out, `${JSON.stringify(result, null, 2)}\n`);
    return 0;
  } catch (error) {
    if (error instanceof ArgError) {
      process.stderr.write(`rein bench serve: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
}
