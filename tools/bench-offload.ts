/**
 * bench-offload: what running checks on worker threads (issue 11) buys and costs.
 *
 *   npx tsc -p tsconfig.json && node dist/tools/bench-offload.js [--runs N] [--bytes N] [--out FILE]
 *
 * 1. `inline_ms`: each builtin check's inline time (best of --runs: load only adds) at text sizes from 128
 *    to 32768 characters, and `crosses_1ms_at`: the first size where it takes 1 ms or more — what the offload
 *    threshold (`checks.offload.min_chars`) is chosen from. self_consistency is its lexical scoring of an
 *    answer of that size against 8 samples of the same size (the part that is offloaded).
 * 2. `hop_ms`: the round trip of a trivial task (`length` on 1 kB) through a warm worker.
 * 3. `event_loop`: a 1 ms interval timer runs while the output checks of a policy (pii, secrets,
 *    blocklist, regex, language, length; then self_consistency with 8 caller samples) run --runs times over
 *    a --bytes (default 100 kB) output, inline and then offloaded; reported: the timer's lateness (max
 *    and p99, ms), the main thread's busy time per run (event-loop utilisation: what the timer's lateness
 *    is without the machine's scheduling noise, see `idle_500ms`) and the wall time per run. Text from tools/bench-filters.ts (fixed seed).
 */
import fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import { loadBuiltinChecks } from '../src/policy/builtin-checks';
import { withOffload } from '../src/policy/check-registry';
import { createCheckWorkerPool } from '../src/policy/check-worker-pool';
import { compilePolicy } from '../src/policy/compile-policy';
import { runOutputChecks } from '../src/policy/policy-engine';
import { scoreConsistencyTask } from '../src/safety/checks/self-consistency-check';
import '../src/safety/detectors';
import '../src/safety/checks';
import { mixedText } from './bench-filters';
import { median } from './bench-stats';

const SIZES = [128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768];
const PARAMS: Record<string, Record<string, unknown>> = {
  blocklist: { terms: Array.from({ length: 50 }, (_, index) => `forbidden${index} term`).concat(['badword', 'kill']), allow: ['kill switch'] },
  regex: { rules: [{ name: 'ticket', pattern: 'TCK-\\d{4,8}' }, { name: 'uuid', pattern: '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}' }] },
  length: { max_chars: 2_000_000 },
  language: { allowed: ['en'] },
};

function percentile(sorted: number[], p: number): number {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

const round3 = (value: number) => Math.round(value * 1000) / 1000;

async function main(argv: string[]): Promise<void> {
  const flag = (name: string, fallback: number) => (argv.includes(name) ? Number(argv[argv.indexOf(name) + 1]) : fallback);
  const runs = Math.max(1, Math.min(50, flag('--runs', 5)));
  const bytes = Math.max(1024, Math.min(1_000_000, flag('--bytes', 100_000)));
  const outIndex = argv.indexOf('--out');
  const registry = loadBuiltinChecks({ redactionKey: 'bench-offload', log: () => undefined });
  const signal = new AbortController().signal;

  // 1. Inline time per check and size.
  const inline: Record<string, Record<string, number>> = {};
  const crosses: Record<string, number | null> = {};
  const detectorIds = registry.ids().filter((id) => registry.get(id)?.detector && !registry.get(id)?.missing);
  for (const id of [...detectorIds, 'self_consistency']) {
    inline[id] = {};
    crosses[id] = null;
    for (const size of SIZES) {
      const text = mixedText(size, 11);
      const samples = id === 'self_consistency' ? Array.from({ length: 8 }, (_, index) => mixedText(size, 100 + index)) : [];
      const once = async () => {
        const started = performance.now();
        if (id === 'self_consistency') await scoreConsistencyTask({ output: text, samples, variant: 'unigram-max', ngramN: 2, selectBest: false });
        else await registry.get(id)!.detector!.detect(text, { role: 'user', params: PARAMS[id] ?? {}, signal });
        return performance.now() - started;
      };
      await once(); // warm-up (model load, JIT)
      const times: number[] = [];
      for (let run = 0; run < runs; run++) times.push(await once());
      inline[id][size] = round3(Math.min(...times));
      if (crosses[id] === null && inline[id][size] >= 1) crosses[id] = size;
    }
  }

  // 2. + 3. Through the pool.
  const pool = createCheckWorkerPool({ checks: { redactionKey: 'bench-offload' }, workers: 1, minChars: 0 });
  const hops: number[] = [];
  const short = mixedText(1024, 3);
  for (let run = 0; run < runs + 5; run++) {
    const started = performance.now();
    await pool.runCheck({ check: 'length', stage: 'input', text: short, role: 'user', params: {} }, signal);
    if (run >= 5) hops.push(performance.now() - started);
  }

  const compile = (text: string) => {
    const result = compilePolicy({ name: 'bench', text }, { registry, lookup: () => undefined });
    if (!result.ok) throw new Error(JSON.stringify(result.errors));
    return result.policy;
  };
  const filtersPolicy = compile(`output:
  - check: pii
    action: redact
  - check: secrets
    action: redact
  - check: blocklist
    terms: ${JSON.stringify(PARAMS.blocklist.terms)}
    action: flag
  - check: regex
    rules: ${JSON.stringify(PARAMS.regex.rules)}
    action: flag
  - check: language
    allowed: [en]
    action: flag
  - check: length
    max_chars: 2000000
    action: flag
`);
  const consistencyPolicy = compile('output:\n  - check: self_consistency\n    action: flag\n    timeout_ms: 60000\n');
  const output = mixedText(bytes, 21);
  const answer = mixedText(Math.min(bytes, 6000), 31);
  const samples = Array.from({ length: 8 }, (_, index) => mixedText(Math.min(bytes, 6000), 40 + index));
  const scenarios = [
    { name: `filters_${bytes}_chars`, policy: filtersPolicy, text: output, context: {} },
    { name: 'self_consistency_6000_chars_8_samples', policy: consistencyPolicy, text: answer, context: { samples } },
  ];
  const eventLoop: Record<string, Record<string, number>> = {};
  const watch = () => {
    const lateness: number[] = [];
    let last = performance.now();
    const timer = setInterval(() => {
      const now = performance.now();
      lateness.push(Math.max(0, now - last - 1));
      last = now;
    }, 1);
    return () => {
      clearInterval(timer);
      const sorted = lateness.sort((a, b) => a - b);
      return { timer_late_max_ms: round3(sorted[sorted.length - 1] ?? 0), timer_late_p99_ms: round3(percentile(sorted, 99)), ticks: sorted.length };
    };
  };
  // The machine's own noise floor: the same timer with nothing running, for 500 ms.
  const idle = watch();
  await new Promise((resolve) => setTimeout(resolve, 500));
  eventLoop.idle_500ms = idle();
  for (const scenario of scenarios) {
    for (const mode of ['inline', 'offloaded'] as const) {
      const checks = mode === 'inline' ? registry : withOffload(registry, pool);
      await runOutputChecks(scenario.policy, scenario.text, scenario.context, checks, signal); // warm-up
      const stop = watch();
      const utilization = performance.eventLoopUtilization();
      const walls: number[] = [];
      for (let run = 0; run < runs; run++) {
        const started = performance.now();
        await runOutputChecks(scenario.policy, scenario.text, scenario.context, checks, signal);
        walls.push(performance.now() - started);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      const busy = performance.eventLoopUtilization(utilization).active;
      eventLoop[`${scenario.name}/${mode}`] = {
        ...stop(),
        main_thread_busy_ms_per_run: round3(busy / runs),
        wall_ms_median: round3(median(walls)),
      };
    }
  }
  await pool.close();

  const result = { node: process.version, runs, inline_ms: inline, crosses_1ms_at: crosses, hop_ms_median: round3(median(hops)), event_loop: eventLoop };
  const json = JSON.stringify(result, null, 2);
  process.stdout.write(`${json}\n`);
  if (outIndex >= 0 && argv[outIndex + 1]) fs.writeFileSync(argv[outIndex + 1], `${json}\n`);
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`bench-offload: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exitCode = 1;
  });
}
