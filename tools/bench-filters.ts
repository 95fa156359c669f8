/**
 * bench-filters: filter throughput (MB/s) over 1 MB of deterministic mixed text, and the latency the
 * policy checks add per request under the shipped `default` and `permissive` policies (p50/p99), side
 * by side in one run.
 *
 *   npm run build && node dist/tools/bench-filters.js [--out FILE] [--requests N]
 *   (or compile just this tool: npx tsc --outDir test-artifacts/bench --rootDir . --module commonjs --target ES2022
 *    --esModuleInterop --resolveJsonModule --skipLibCheck tools/bench-filters.ts && node test-artifacts/bench/tools/bench-filters.js)
 *
 * The text is generated from a fixed seed: prose, code, log lines, numbers that look like PII but are
 * not (versions, dates, room numbers, Luhn-failing cards) and real-looking PII and secrets (~1 in 40
 * lines). Throughput = bytes / wall time of `scan` over the whole text, best of 3 runs.
 */
import fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import { createBuiltinFilters } from '../src/safety/filters';
import { loadBuiltinChecks } from '../src/policy/builtin-checks';
import { createPolicyStore } from '../src/policy/policy-store';
import { defaultPolicyDirectory } from '../src/policy/policy-directory';
import { runInputChecks, runOutputChecks } from '../src/policy/policy-engine';
// loadBuiltinChecks requires these lazily; importing them here makes a single-file compile include them.
import '../src/safety/detectors';
import '../src/safety/checks';
import { mulberry32 as seededRandom } from '../src/util/mulberry32';

const WORDS = ('the of and to in is that for it as was with be by on not he this are or his from at which but have an they ' +
  'you were her all she there would their we him been has when who will more no if out so said what up its about into ' +
  'than them can only other new some could time these two may then do first any my now such like our over man me even ' +
  'most made after also did many before must through back years where much your way well down should because each just ' +
  'those people how too little state good very make world still own see men work long get here between both life being').split(' ');

const LINES: Array<(random: () => number) => string> = [
  (random) => `Contact jane.doe${Math.floor(random() * 1000)}@example.org for details.`,
  () => 'Call +1 (415) 555-2671 or 020 7946 0958 tomorrow.',
  () => 'Card 4111 1111 1111 1111 was charged; IBAN DE89 3704 0044 0532 0130 00.',
  () => 'export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE; password = "Tr0ub4dor&3xyz"',
  () => 'Upgrade to version 2.10.3 (released 2024-01-15), room 1204, ISBN 978-0-306-40615-7, ref 4111 1111 1111 1112.',
  () => '2026-11-28T10:30:00Z INFO request 123e4567-e89b-12d3-a456-426614174000 took 12.5ms from 10.0.0.12',
  () => 'function add(a, b) { return a + b; } // std::map<int, int> m;',
];

export function mixedText(bytes: number, seed = 42): string {
  const random = seededRandom(seed);
  const parts: string[] = [];
  let length = 0;
  while (length < bytes) {
    let line: string;
    if (random() < 0.025 * LINES.length) line = LINES[Math.floor(random() * LINES.length)](random);
    else {
      const count = 8 + Math.floor(random() * 20);
      const words = Array.from({ length: count }, () => WORDS[Math.floor(random() * WORDS.length)]);
      words[0] = words[0][0].toUpperCase() + words[0].slice(1);
      line = `${words.join(' ')}.`;
    }
    parts.push(line);
    length += line.length + 1;
  }
  return parts.join('\n').slice(0, bytes);
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function main(argv: string[]): Promise<void> {
  const outIndex = argv.indexOf('--out');
  const requestsIndex = argv.indexOf('--requests');
  const requests = requestsIndex >= 0 ? Number(argv[requestsIndex + 1]) : 300;
  const text = mixedText(1024 * 1024);
  const megabytes = Buffer.byteLength(text, 'utf8') / (1024 * 1024);

  const filters = createBuiltinFilters({ redactionKey: 'bench' });
  const params: Record<string, Record<string, unknown>> = {
    pii: {},
    secrets: {},
    blocklist: { terms: Array.from({ length: 50 }, (_, index) => `forbidden${index} term`).concat(['badword', 'kill']), allow: ['kill switch'] },
    regex: { rules: [{ name: 'ticket', pattern: 'TCK-\\d{4,8}' }, { name: 'order', pattern: '(?:order|ref) [0-9]{6,12}', ignore_case: true }, { name: 'uuid', pattern: '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}' }] },
    length: { max_chars: 2_000_000, max_words: 1_000_000 },
    language: { allowed: ['en'] },
  };
  const throughput: Record<string, { mb_per_s: number; matches: number }> = {};
  let totalSeconds = 0;
  for (const filter of filters) {
    let best = Infinity;
    let matches = 0;
    for (let round = 0; round < 3; round++) {
      const started = performance.now();
      matches = filter.scan(text, params[filter.id] ?? {}).length;
      best = Math.min(best, (performance.now() - started) / 1000);
    }
    totalSeconds += best;
    throughput[filter.id] = { mb_per_s: Math.round((megabytes / best) * 100) / 100, matches };
  }

  // Added latency per request: input + output checks of a typical chat turn, default vs permissive.
  const registry = loadBuiltinChecks({ redactionKey: 'bench', log: () => undefined });
  const store = createPolicyStore({ directory: defaultPolicyDirectory(), registry, watch: false, log: () => undefined });
  const random = seededRandom(7);
  const latency: Record<string, { p50_ms: number; p99_ms: number; requests: number }> = {};
  const names = ['default', 'permissive'];
  const samples: Record<string, number[]> = { default: [], permissive: [] };
  let errorFindings = 0;
  for (let index = 0; index < requests + 20; index++) {
    const prompt = mixedText(200 + Math.floor(random() * 600), 1000 + index);
    const output = mixedText(400 + Math.floor(random() * 1200), 5000 + index);
    for (const name of index % 2 === 0 ? names : [...names].reverse()) {
      const policy = store.get(name);
      if (!policy) throw new Error(`policy ${name} not found`);
      const signal = new AbortController().signal;
      const started = performance.now();
      const inputOutcome = await runInputChecks(policy, { messages: [{ role: 'user', content: prompt }] }, registry, signal);
      const outputOutcome = await runOutputChecks(policy, output, { input: prompt }, registry, signal);
      errorFindings += [...inputOutcome.findings, ...outputOutcome.findings].filter((finding) => finding.verdict === 'error').length;
      if (index >= 20) samples[name].push(performance.now() - started); // first 20: warm-up (model load, JIT)
    }
  }
  for (const name of names) {
    const sorted = samples[name].sort((a, b) => a - b);
    latency[name] = { p50_ms: Math.round(percentile(sorted, 50) * 1000) / 1000, p99_ms: Math.round(percentile(sorted, 99) * 1000) / 1000, requests: sorted.length };
  }
  store.close();

  // A fixed busy loop, to judge how loaded the machine was (about 10 ms on an idle modern core).
  const calibrationStarted = performance.now();
  let sink = 0;
  for (let index = 0; index < 10_000_000; index++) sink = (sink + index) | 0;
  const calibrationMs = Math.round((performance.now() - calibrationStarted) * 10) / 10;

  const result = {
    text_bytes: Buffer.byteLength(text, 'utf8'),
    node: process.version,
    cpu_calibration_ms: calibrationMs,
    calibration_sink: sink,
    filters: throughput,
    all_filters_mb_per_s: Math.round((megabytes / totalSeconds) * 100) / 100,
    policy_check_latency: latency,
    checks_loaded: registry.ids().filter((id) => !registry.get(id)?.missing),
    error_findings: errorFindings,
  };
  const json = JSON.stringify(result, null, 2);
  process.stdout.write(`${json}\n`);
  if (outIndex >= 0 && argv[outIndex + 1]) fs.writeFileSync(argv[outIndex + 1], `${json}\n`);
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`bench-filters: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exitCode = 1;
  });
}
