/**
 * bench-selfcheck: latency of the consistency checks without sampling — the samples are given, as on
 * `/v1/check` — for a 1,000-word answer with 8 samples (p50/p99 over repeated runs, after a warm-up).
 * Texts: WikiBio GPT-3 samples from ../shared/data when present (passages concatenated to 1,000 words),
 * otherwise a seeded synthetic biography generator. The NLI row uses the tiny random-weight fixture model
 * (plumbing cost only; a real cross-encoder is far slower). Speed belongs here, never in jest.
 *
 *   npm run build && node dist/tools/bench-selfcheck.js [--runs N] [--words N] [--samples N] [--out FILE]
 */
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from '../src/cli/args';
import { createBuiltinOutputChecks } from '../src/safety/checks';
import type { OutputCheck, OutputCheckContext } from '../src/safety/detector';
import { parseJson } from '../src/util/parse-json';

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
  let state = seed >>> 0;
  const random = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
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

async function time(check: OutputCheck, output: string, context: OutputCheckContext, runs: number): Promise<{ p50: number; p99: number; mean: number }> {
  for (let i = 0; i < Math.min(5, runs); i++) await check.check(output, context);
  const durations: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await check.check(output, context);
    durations.push(performance.now() - start);
  }
  durations.sort((a, b) => a - b);
  const round = (value: number) => Math.round(value * 100) / 100;
  return { p50: round(percentile(durations, 0.5)), p99: round(percentile(durations, 0.99)), mean: round(durations.reduce((sum, value) => sum + value, 0) / runs) };
}

async function main(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { strings: ['runs', 'words', 'samples', 'out'] });
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
    results.push({ check: row.check, params: row.params, runs: row.runs, latency_ms: latency });
    process.stderr.write(`${row.check} ${JSON.stringify(row.params)}: p50 ${latency.p50} ms, p99 ${latency.p99} ms\n`);
  }
  const report = { words, samples: sampleCount, texts: source, node: process.version, results };
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
