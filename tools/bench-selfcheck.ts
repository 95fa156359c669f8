/**
 * bench-selfcheck: latency of the consistency checks without sampling — the samples are given, as on
 * `/v1/check` — for a 1,000-word answer with 8 samples (p50/p99 over repeated runs, after a warm-up).
 * Texts: WikiBio GPT-3 samples from ../shared/data when present (passages concatenated to 1,000 words),
 * otherwise a seeded synthetic biography generator. The NLI row uses the tiny random-weight fixture model
 * (plumbing cost only; a real cross-encoder is far slower). With `--model DIR` (an ONNX model folder such
 * as models/rein-demo) it also measures end to end with sampling through a real `rein serve` over HTTP:
 * a chat request with `checks.self_consistency` (the answer plus `--samples` extra samples, scored with
 * unigram-max) against the same request without the check, over `--e2e-runs` seeds.
 * Speed belongs here, never in jest.
 *
 *   npm run build && node dist/tools/bench-selfcheck.js [--runs N] [--words N] [--samples N]
 *     [--model DIR --prompt TEXT --max-tokens N --e2e-runs N] [--out FILE]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from '../src/cli/args';
import { createBuiltinOutputChecks } from '../src/safety/checks';
import type { OutputCheck, OutputCheckContext } from '../src/safety/detector';
import { parseJson } from '../src/util/parse-json';
import { mulberry32 } from '../src/util/mulberry32';
import { startProcess } from './start-process';

const ROOT = path.resolve(__dirname, fs.existsSync(path.resolve(__dirname, '../package.json')) ? '..' : '../..');
const DATA = path.resolve(ROOT, '../shared/data/selfcheck-dev/wikibio-hallucination-part1.json');
const NLI_DIR = path.join(ROOT, 'tests/fixtures/nli/tiny');

function takeWords(texts: readonly string[], count: number): string {
  const words: string[] = [];
  for (let i = 0; words.length < count; i++) words.push(...texts[i % texts.length].split(/\s+/).filter(Boolean));
  return words.slice(0, count).join(' ');
}

/** A small deterministic generator (mulberry32) for synthetic biographies when the shared data is absent. */
function synthetic(seed: number, count: number): string {
  const random = mulberry32(seed);
  const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)];
  const names = ['Ada Lovelace', 'Alan Turing', 'Grace Hopper', 'Marie Curie', 'Niels Bohr'];
  const places = ['London', 'Paris', 'Warsaw', 'New York', 'Copenhagen'];
  const roles = ['mathematician', 'physicist', 'chemist', 'engineer', 'writer'];
  const sentences: string[] = [];
  while (sentences.join(' ').split(' ').length < count) {
    sentences.push(`${pick(names)} was a ${pick(roles)} born in ${pick(places)} in ${1800 + Math.floor(random() * 150)}.`);
    sentences.push(`In ${1850 + Math.floor(random() * 100)} the ${pick(roles)} moved to ${pick(places)} and worked at the university there.`);
  }
  return takeWords(sentences, count);
}

function loadTexts(words: number, sampleCount: number): { answer: string; samples: string[]; source: string } {
  if (fs.existsSync(DATA)) {
    const parsed = parseJson<Array<{ passage: string; samples: string[] }>>(fs.readFileSync(DATA, 'utf8'));
    if (parsed.ok) {
      const passages = parsed.value;
      const answer = takeWords(passages.map((passage) => passage.passage), words);
      const samples = Array.from({ length: sampleCount }, (_, index) => takeWords(passages.map((passage) => passage.samples[index % passage.samples.length]), words));
      return { answer, samples, source: 'wikibio-hallucination-part1 (concatenated)' };
    }
  }
  return { answer: synthetic(1, words), samples: Array.from({ length: sampleCount }, (_, index) => synthetic(100 + index, words)), source: 'synthetic' };
}

function percentile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

interface Latency {
  p50: number;
  p99: number;
  mean: number;
}

/**
 * Wall-clock latency, and the process's CPU time per run (user + system): on a shared machine the wall
 * clock includes time spent waiting for a core, the CPU time does not (onnxruntime's worker threads count
 * in it too, so for nli it can exceed the wall clock).
 */
async function time(check: OutputCheck, output: string, context: OutputCheckContext, runs: number): Promise<{ wall: Latency; cpu: Latency }> {
  for (let i = 0; i < Math.min(5, runs); i++) await check.check(output, context);
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < runs; i++) {
    const startCpu = process.cpuUsage();
    const start = performance.now();
    await check.check(output, context);
    wall.push(performance.now() - start);
    const used = process.cpuUsage(startCpu);
    cpu.push((used.user + used.system) / 1000);
  }
  return { wall: summarize(wall), cpu: summarize(cpu) };
}

function summarize(values: number[]): Latency {
  const sorted = [...values].sort((a, b) => a - b);
  const round = (value: number) => Math.round(value * 100) / 100;
  return { p50: round(percentile(sorted, 0.5)), p99: round(percentile(sorted, 0.99)), mean: round(sorted.reduce((sum, value) => sum + value, 0) / sorted.length) };
}

/**
 * End to end through a real `rein serve` on the ONNX model folder, over HTTP, as a user calls it:
 * `POST /v1/generate` with chat messages and `checks.self_consistency.samples`, so the answer, the extra
 * samples (one batch in the scheduler) and the unigram-max scoring all run in the gateway. Reports the
 * request latency and the gateway's own stage timings (`timings_ms`), with and without the check.
 */
async function endToEnd(modelDir: string, prompt: string, maxTokens: number, sampleCount: number, runs: number) {
  const database = path.join(os.tmpdir(), `rein-bench-selfcheck-${process.pid}.sqlite`);
  const { child, match } = await startProcess([path.join(ROOT, 'dist/src/cli.js'), 'serve', '--model', path.resolve(modelDir), '--port', '0', '--log-level', 'error'], /REIN_LISTENING (\d+)/, {
    cwd: ROOT,
    env: { REIN_PRINT_PORT: '1', REIN_AUDIT_DB: `sqlite:${database}` },
    timeoutMs: 120000,
  });
  const port = Number(match[1]);
  try {
    const ask = async (seed: number, withCheck: boolean) => {
      const body = {
        messages: [{ role: 'user', content: prompt }],
        max_tokens: maxTokens,
        temperature: 1,
        seed,
        policy: 'permissive',
        ...(withCheck ? { checks: { self_consistency: { samples: sampleCount } } } : {}),
      };
      const start = performance.now();
      const response = await fetch(`http://127.0.0.1:${port}/v1/generate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const json = (await response.json()) as { timings_ms?: Record<string, number>; usage?: { completion_tokens: number }; consistency?: { score: number }; error?: unknown };
      if (response.status !== 200) throw new Error(`HTTP ${response.status}: ${JSON.stringify(json)}`);
      return { ms: performance.now() - start, timings: json.timings_ms ?? {}, tokens: json.usage?.completion_tokens ?? 0, score: json.consistency?.score };
    };
    await ask(1, true); // warm-up
    const rows = { plain: [] as number[], checked: [] as number[], generate: [] as number[], output_checks: [] as number[], tokens: [] as number[], scores: [] as number[] };
    for (let run = 0; run < runs; run++) {
      rows.plain.push((await ask(100 + run, false)).ms);
      const checked = await ask(100 + run, true);
      rows.checked.push(checked.ms);
      rows.generate.push(checked.timings.generate ?? NaN);
      rows.output_checks.push(checked.timings.output_checks ?? NaN);
      rows.tokens.push(checked.tokens);
      if (checked.score !== undefined) rows.scores.push(checked.score);
    }
    return {
      model: modelDir, prompt, max_tokens: maxTokens, samples: sampleCount, runs,
      request_ms_without_check: summarize(rows.plain),
      request_ms_with_check: summarize(rows.checked),
      stage_generate_ms: summarize(rows.generate),
      stage_output_checks_ms: summarize(rows.output_checks),
      answer_tokens_mean: rows.tokens.reduce((sum, value) => sum + value, 0) / Math.max(1, rows.tokens.length),
      scored: rows.scores.length,
    };
  } finally {
    child.kill('SIGTERM');
    fs.rmSync(database, { force: true });
  }
}

async function main(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { strings: ['runs', 'words', 'samples', 'out', 'model', 'prompt', 'max-tokens', 'e2e-runs'] });
  const runs = Number(args.values.runs ?? 100);
  const words = Number(args.values.words ?? 1000);
  const sampleCount = Number(args.values.samples ?? 8);
  const { answer, samples, source } = loadTexts(words, sampleCount);
  const checks = createBuiltinOutputChecks({ nliModelDir: fs.existsSync(NLI_DIR) ? NLI_DIR : undefined });
  const byId = new Map(checks.map((check) => [check.id, check]));
  const signal = new AbortController().signal;
  const rows: Array<{ check: string; params: Record<string, unknown>; runs: number }> = [
    { check: 'self_consistency', params: { variant: 'unigram-max' }, runs },
    { check: 'self_consistency', params: { variant: 'unigram-avg' }, runs },
    { check: 'self_consistency', params: { variant: 'ngram', ngram_n: 2 }, runs },
    { check: 'self_consistency', params: { variant: 'unigram-max', select_best: true }, runs: Math.max(1, Math.floor(runs / 4)) },
    { check: 'grounding', params: { nli: false }, runs },
    { check: 'vote', params: {}, runs },
  ];
  if (fs.existsSync(NLI_DIR)) rows.push({ check: 'self_consistency', params: { variant: 'nli' }, runs: Math.max(1, Math.floor(runs / 20)) });
  const results = [];
  for (const row of rows) {
    const check = byId.get(row.check)!;
    const context: OutputCheckContext = { role: 'prompt', params: row.params, signal, samples, sources: samples };
    const output = row.check === 'vote' ? 'Paris' : answer;
    const latency = await time(check, output, context, row.runs);
    results.push({ check: row.check, params: row.params, runs: row.runs, latency_ms: latency.wall, cpu_ms: latency.cpu });
    process.stderr.write(
      `${row.check} ${JSON.stringify(row.params)}: wall p50 ${latency.wall.p50} ms, p99 ${latency.wall.p99} ms; cpu p50 ${latency.cpu.p50} ms, p99 ${latency.cpu.p99} ms\n`,
    );
  }
  let endToEndResult;
  if (args.values.model) {
    endToEndResult = await endToEnd(
      args.values.model,
      args.values.prompt ?? 'Tell me about Joram Valcourt.',
      Number(args.values['max-tokens'] ?? 128),
      sampleCount,
      Number(args.values['e2e-runs'] ?? 10),
    );
    process.stderr.write(`end to end: ${JSON.stringify(endToEndResult)}\n`);
  }
  const report = { words, samples: sampleCount, texts: source, node: process.version, load_average: os.loadavg(), cpus: os.cpus().length, results, ...(endToEndResult ? { end_to_end: endToEndResult } : {}) };
  const text = `${JSON.stringify(report, null, 2)}\n`;
  if (args.values.out) fs.writeFileSync(args.values.out, text);
  process.stdout.write(text);
  return 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`bench-selfcheck: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
      process.exitCode = 2;
    },
  );
}
