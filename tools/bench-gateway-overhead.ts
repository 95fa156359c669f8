/**
 * Gateway overhead benchmark (issues 10 and 11): the latency a gateway adds in front of a trivial
 * OpenAI-compatible fixture server, measured side by side in one run:
 *   direct   — the fixture called directly
 *   rein     — Rein (remote backend) with the `permissive` policy, and with the `default` policy
 *   portkey  — Portkey's open-source gateway (@portkey-ai/gateway 1.15.2), when installed
 * at 1, 8 and 64 concurrent clients (closed loop, keep-alive), non-streaming; plus time to first byte
 * when streaming at one client. Every server runs in its own process; the load generator here uses
 * undici with one connection per client and records latencies with performance.now().
 *
 * The machine is shared and noisy, so each level is measured in `--rounds` windows of `--duration`
 * seconds, the targets taking turns (the order reversed every other round), and every figure is the
 * median over the rounds. Each server's CPU time per request (user + system, from /proc on Linux) is
 * reported next to its latency: it is steadier than wall-clock figures.
 *
 *   npm run bench:gateway [-- --duration 3 --rounds 3 --concurrency 1,8,64 --out overhead.json]
 *                         [--compare ../other-checkout]   (another build's Rein in the same run: an A/B)
 *                         [--model long] [--stream]       (a 200-token answer instead of "Hello world";
 *                                                          clients that stream, timed to the last byte)
 */
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Pool } from 'undici';
import { startProcess } from './start-process';
import { median } from './bench-stats';

interface Target {
  name: string;
  url: string;
  headers: Record<string, string>;
  /** The serving process, for its CPU time. */
  pid?: number;
}

/** User + system CPU milliseconds a process has used (Linux /proc), or null. */
function cpuMs(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // clock ticks of 10 ms
  } catch {
    return null;
  }
}

interface LevelResult {
  target: string;
  concurrency: number;
  requests: number;
  errors: number;
  requests_per_s: number;
  p50_ms: number;
  p99_ms: number;
  /** The server's CPU milliseconds per request (median over rounds); null when unknown (direct, non-Linux). */
  cpu_ms_per_request: number | null;
}

const ROOT = path.resolve(__dirname, '..', '..');

function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

async function measure(target: Target, concurrency: number, durationMs: number, body: string): Promise<LevelResult> {
  const url = new URL(target.url);
  const pool = new Pool(url.origin, { connections: concurrency, pipelining: 1 });
  const latencies: number[] = [];
  let errors = 0;
  const requestPath = `${url.pathname.replace(/\/$/, '')}/chat/completions`;
  // A request answered with anything but 200 is an error, not a served request: it counts in `errors`
  // only (not in requests, req/s or latency).
  const once = async (): Promise<number | null> => {
    const start = performance.now();
    const response = await pool.request({ path: requestPath, method: 'POST', headers: { 'content-type': 'application/json', ...target.headers }, body });
    await response.body.text();
    if (response.statusCode !== 200) {
      errors++;
      return null;
    }
    return performance.now() - start;
  };
  // Warm-up: connections, JIT, caches.
  await Promise.all(Array.from({ length: concurrency }, () => once().catch(() => 0)));
  errors = 0;
  const deadline = performance.now() + durationMs;
  const started = performance.now();
  const cpuBefore = cpuMs(target.pid);
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        try {
          const latency = await once();
          if (latency !== null) latencies.push(latency);
        } catch {
          errors++;
        }
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  const cpuAfter = cpuMs(target.pid);
  await pool.close();
  latencies.sort((a, b) => a - b);
  return {
    target: target.name,
    concurrency,
    requests: latencies.length,
    errors,
    requests_per_s: Math.round(latencies.length / elapsed),
    p50_ms: Math.round(percentile(latencies, 0.5) * 1000) / 1000,
    p99_ms: Math.round(percentile(latencies, 0.99) * 1000) / 1000,
    cpu_ms_per_request: cpuBefore !== null && cpuAfter !== null && latencies.length > 0 ? Math.round(((cpuAfter - cpuBefore) / latencies.length) * 1000) / 1000 : null,
  };
}

async function timeToFirstByte(target: Target, samples: number): Promise<{ p50_ms: number; p99_ms: number }> {
  const url = new URL(target.url);
  const pool = new Pool(url.origin, { connections: 1 });
  const body = JSON.stringify({ model: 'ok', messages: [{ role: 'user', content: 'Hello' }], max_tokens: 8, stream: true });
  const times: number[] = [];
  for (let i = 0; i < samples + 5; i++) {
    const start = performance.now();
    const response = await pool.request({ path: `${url.pathname.replace(/\/$/, '')}/chat/completions`, method: 'POST', headers: { 'content-type': 'application/json', ...target.headers }, body });
    let first = 0;
    for await (const chunk of response.body) {
      if (!first && chunk.length > 0) first = performance.now() - start;
    }
    if (i >= 5) times.push(first);
  }
  await pool.close();
  times.sort((a, b) => a - b);
  return { p50_ms: Math.round(percentile(times, 0.5) * 1000) / 1000, p99_ms: Math.round(percentile(times, 0.99) * 1000) / 1000 };
}

async function main(argv: string[]): Promise<number> {
  const option = (name: string, fallback: string) => {
    const index = argv.indexOf(`--${name}`);
    return index >= 0 && argv[index + 1] ? argv[index + 1] : fallback;
  };
  const durationMs = Number(option('duration', '3')) * 1000;
  const rounds = Math.max(1, Number(option('rounds', '3')));
  const compare = option('compare', '').split(',').filter(Boolean);
  const levels = option('concurrency', '1,8,64').split(',').map(Number);
  const out = option('out', '');
  const model = option('model', 'ok');
  const streamed = argv.includes('--stream');
  const children: ChildProcess[] = [];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rein-overhead-'));
  try {
    const fixture = await startProcess([path.join(ROOT, 'dist/tools/fixture-servers/fault-server.js')], /FIXTURE_URL (\S+)/, { cwd: ROOT });
    children.push(fixture.child);
    const fixtureUrl = fixture.match[1];
    const targets: Target[] = [{ name: 'direct', url: fixtureUrl, headers: {} }];

    const config = {
      models: [],
      backends: [{ id: 'fixture', url: fixtureUrl, kind: 'vllm', models: ['ok', 'long'] }],
      policies: { dir: path.join(ROOT, 'policies'), default: 'permissive', watch: false },
      audit: { store: `sqlite:${path.join(dir, 'audit.sqlite')}` },
      logging: { level: 'error' },
    };
    // This build, and with --compare DIR[,DIR…] other builds (checkouts with dist/ built) side by side.
    const builds = [{ label: '', root: ROOT }, ...compare.map((root, index) => ({ label: `@${path.basename(path.resolve(root)) || `build${index}`}`, root: path.resolve(root) }))];
    for (const [index, build] of builds.entries()) {
      const configFile = path.join(dir, `rein-${index}.json`);
      fs.writeFileSync(configFile, JSON.stringify({ ...config, audit: { store: `sqlite:${path.join(dir, `audit-${index}.sqlite`)}` } }));
      const rein = await startProcess([path.join(build.root, 'dist/src/cli.js'), 'serve', '--config', configFile, '--port', '0'], /REIN_LISTENING (\d+)/, { cwd: build.root, env: { REIN_PRINT_PORT: '1' } });
      children.push(rein.child);
      targets.push({ name: `rein${build.label}`, url: `http://127.0.0.1:${rein.match[1]}/v1`, headers: {}, pid: rein.child.pid });
    }

    const portkeyEntry = path.join(ROOT, 'node_modules/@portkey-ai/gateway/build/start-server.js');
    if (fs.existsSync(portkeyEntry)) {
      const port = 20000 + Math.floor(Math.random() * 20000);
      const portkey = await startProcess([portkeyEntry, `--port=${port}`, '--headless'], /Ready for connections|running at/, { cwd: ROOT });
      children.push(portkey.child);
      targets.push({ name: 'portkey', url: `http://127.0.0.1:${port}/v1`, headers: { 'x-portkey-provider': 'openai', 'x-portkey-custom-host': fixtureUrl, authorization: 'Bearer unused' }, pid: portkey.child.pid });
    } else {
      process.stderr.write('portkey is not installed (npm i -D @portkey-ai/gateway@1.15.2): skipping it\n');
    }

    const results: LevelResult[] = [];
    const variants = targets.flatMap((target) =>
      (target.name.startsWith('rein') ? ['permissive', 'default'] : [undefined]).map((policy) => ({
        target: { ...target, name: policy ? `rein-${policy}${target.name.slice(4)}` : target.name },
        body: JSON.stringify({ model, messages: [{ role: 'user', content: 'Hello, how are you today?' }], max_tokens: model === 'ok' ? 8 : 256, ...(streamed ? { stream: true } : {}), ...(policy ? { policy } : {}) }),
      })));
    for (const concurrency of levels) {
      const perRound = new Map<string, LevelResult[]>(variants.map((variant) => [variant.target.name, []]));
      // Warm-up (JIT, connection pools, caches), discarded.
      for (const variant of variants) await measure(variant.target, concurrency, Math.min(1000, durationMs), variant.body);
      for (let round = 0; round < rounds; round++) {
        const order = round % 2 === 0 ? variants : [...variants].reverse();
        for (const variant of order) {
          process.stderr.write(`measuring ${variant.target.name} at ${concurrency} client(s), round ${round + 1}/${rounds}…\n`);
          perRound.get(variant.target.name)!.push(await measure(variant.target, concurrency, durationMs, variant.body));
        }
      }
      for (const [name, list] of perRound) {
        const cpu = list.map((result) => result.cpu_ms_per_request).filter((value): value is number => value !== null);
        results.push({
          target: name,
          concurrency,
          requests: list.reduce((total, result) => total + result.requests, 0),
          errors: list.reduce((total, result) => total + result.errors, 0),
          requests_per_s: median(list.map((result) => result.requests_per_s)),
          p50_ms: median(list.map((result) => result.p50_ms)),
          p99_ms: median(list.map((result) => result.p99_ms)),
          cpu_ms_per_request: cpu.length > 0 ? median(cpu) : null,
        });
      }
    }
    const ttft = {
      direct: await timeToFirstByte(targets[0], 200),
      rein_permissive: await timeToFirstByte(targets[1], 200),
    };
    const table = results.map((result) => {
      const direct = results.find((candidate) => candidate.target === 'direct' && candidate.concurrency === result.concurrency)!;
      const portkey = results.find((candidate) => candidate.target === 'portkey' && candidate.concurrency === result.concurrency);
      return {
        ...result,
        added_p50_ms: Math.round((result.p50_ms - direct.p50_ms) * 1000) / 1000,
        added_p99_ms: Math.round((result.p99_ms - direct.p99_ms) * 1000) / 1000,
        // null when there is no Portkey figure to compare with (not installed, or it served nothing).
        x_portkey_rps: portkey && portkey.requests_per_s > 0 && result.target !== 'direct' ? Math.round((result.requests_per_s / portkey.requests_per_s) * 100) / 100 : null,
      };
    });
    process.stdout.write(`fixture model '${model}'${model === 'long' ? ' (200-token answer)' : ''}, clients ${streamed ? 'streaming (timed to the last byte)' : 'not streaming'}\n`);
    console.table(table);
    for (const row of table.filter((result) => result.errors > 0)) {
      process.stdout.write(`warning: ${row.target} at ${row.concurrency} client(s) answered ${row.errors} request(s) with an error; its figures count the ${row.requests} it served\n`);
    }
    process.stdout.write(`time to first byte (streaming, 1 client): ${JSON.stringify(ttft)}\n`);
    if (out) fs.writeFileSync(out, JSON.stringify({ machine: `${os.cpus().length} cores`, loadavg_1m: os.loadavg()[0], duration_s: durationMs / 1000, rounds, model, stream: streamed, levels: table, ttft_ms: ttft }, null, 2));
    return 0;
  } finally {
    for (const child of children) child.kill('SIGTERM');
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(2);
  },
);
