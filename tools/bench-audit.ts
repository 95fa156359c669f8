/**
 * bench-audit: what the audit trail costs.
 *   - per-request audit cost in sync mode (build the event at the `redacted` level + append, resolved
 *     after commit), p50/p99, on SQLite (WAL, synchronous=NORMAL) and on PostgreSQL;
 *   - appends per second with 1, 8 and 64 concurrent writers (group commit batches the concurrent ones);
 *   - time to verify a log of 100,000 records on SQLite (chain, MACs, Merkle checkpoints, head).
 * Run: npm run build && node dist/tools/bench-audit.js [--appends N] [--verify-records N] [--postgres URL|none] [--out FILE]
 * Writes JSON to stdout (and --out). Temporary databases are removed afterwards (the PostgreSQL schema is dropped).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { buildAuditEvent, type AuditEventFields } from '../src/audit/audit-event';
import { openAuditStore } from '../src/audit/open-audit-store';
import type { AuditStore } from '../src/audit/audit-store';
import { parseArgs } from '../src/cli/args';

const KEY = randomBytes(32);

function fields(index: number): AuditEventFields {
  const prompt = `Customer ${index} writes: please send the invoice to jane.doe${index}@example.org and call +1 555 0100 ${'lorem ipsum '.repeat(20)}`;
  const start = prompt.indexOf('jane');
  return {
    requestId: `bench_${index}`,
    route: '/v1/chat/completions',
    operation: 'chat',
    apiKeyId: 'key_bench',
    model: 'rein-demo',
    backend: 'onnx',
    decoding: { temperature: 0.7, topP: 1, seed: index, maxTokens: 128, n: 1 },
    constraint: { type: 'json_schema', hash: 'sha256:' + 'ab'.repeat(32) },
    policy: { name: 'default', revision: 'sha256:' + 'cd'.repeat(32) },
    findings: [
      { check: 'pii.email', stage: 'input', verdict: 'fail', action: 'redact', enforced: true, score: 1, explanation: 'email address', spans: [[start, start + `jane.doe${index}@example.org`.length]], source: 'messages/0' },
      { check: 'prompt_injection', stage: 'input', verdict: 'pass', action: 'block', enforced: true, score: 0.03, explanation: 'no injection' },
    ],
    decision: 'redact',
    status: 200,
    timingsMs: { validate: 0.1, input: 2.3, compile: 0.4, generate: 180, output: 3.1 },
    usage: { inputTokens: 60, outputTokens: 80 },
    finishReasons: ['stop'],
    input: [{ source: 'messages/0', role: 'user', text: prompt }],
    output: [{ source: 'choices/0', text: `{"status":"sent","to":"[EMAIL]","note":"${'dolor sit amet '.repeat(10)}"}` }],
  };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

async function measureAppends(store: AuditStore, count: number): Promise<{ n: number; p50_ms: number; p99_ms: number; mean_ms: number }> {
  for (let index = 0; index < 50; index++) await store.append(buildAuditEvent(fields(-index), 'redacted')); // warm-up
  const samples: number[] = [];
  for (let index = 0; index < count; index++) {
    const start = performance.now();
    await store.append(buildAuditEvent(fields(index), 'redacted'));
    samples.push(performance.now() - start);
  }
  const sorted = [...samples].sort((a, b) => a - b);
  const round = (value: number) => Math.round(value * 1000) / 1000;
  return { n: count, p50_ms: round(percentile(sorted, 50)), p99_ms: round(percentile(sorted, 99)), mean_ms: round(samples.reduce((a, b) => a + b, 0) / samples.length) };
}

/** Appends per second with `clients` concurrent writers (closed loop) — the effect of group commit. */
async function measureThroughput(store: AuditStore, clients: number, durationMs: number): Promise<{ clients: number; appends: number; appends_per_s: number }> {
  let appended = 0;
  const deadline = performance.now() + durationMs;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async (_, client) => {
      for (let index = 0; performance.now() < deadline; index++) {
        await store.append(buildAuditEvent(fields(client * 1_000_000 + index), 'redacted'));
        appended++;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return { clients, appends: appended, appends_per_s: Math.round(appended / seconds) };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2), { strings: ['appends', 'verify-records', 'postgres', 'out'] });
  const appends = Number(args.values.appends ?? 2000);
  const verifyRecords = Number(args.values['verify-records'] ?? 100000);
  const postgresUrl = args.values.postgres ?? 'postgres://postgres@127.0.0.1:5432/test';
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rein-bench-audit-'));
  const result: Record<string, unknown> = { event_level: 'redacted', node: process.version, cpus: os.cpus().length, loadavg_1m: os.loadavg()[0] };
  try {
    process.stderr.write(`bench-audit: ${appends} sync appends on SQLite\n`);
    const sqlite = await openAuditStore(`sqlite:${path.join(dir, 'append.sqlite')}`, { hmacKey: KEY });
    result.sqlite_append = await measureAppends(sqlite, appends);
    result.sqlite_concurrent = [];
    for (const clients of [1, 8, 64]) (result.sqlite_concurrent as unknown[]).push(await measureThroughput(sqlite, clients, 2000));
    await sqlite.close();

    if (postgresUrl !== 'none') {
      const schema = `rein_bench_audit_${randomBytes(4).toString('hex')}`;
      try {
        process.stderr.write(`bench-audit: ${appends} sync appends on PostgreSQL\n`);
        const postgres = await openAuditStore(`${postgresUrl}${postgresUrl.includes('?') ? '&' : '?'}schema=${schema}`, { hmacKey: KEY });
        result.postgres_append = await measureAppends(postgres, appends);
        result.postgres_concurrent = [];
        for (const clients of [1, 8, 64]) (result.postgres_concurrent as unknown[]).push(await measureThroughput(postgres, clients, 2000));
        await postgres.close();
        // Baseline: one durable INSERT + COMMIT of the same size on the same server (what any audit write costs).
        const client = new Client({ connectionString: postgresUrl });
        await client.connect();
        try {
          await client.query(`CREATE TABLE "${schema}".commit_probe (n integer, body text)`);
          const samples: number[] = [];
          const body = JSON.stringify(buildAuditEvent(fields(0), 'redacted'));
          for (let index = 0; index < Math.min(appends, 1000); index++) {
            const start = performance.now();
            await client.query('BEGIN');
            await client.query(`INSERT INTO "${schema}".commit_probe VALUES ($1, $2)`, [index, body]);
            await client.query('COMMIT');
            samples.push(performance.now() - start);
          }
          samples.sort((a, b) => a - b);
          result.postgres_bare_commit = { n: samples.length, p50_ms: Math.round(percentile(samples, 50) * 1000) / 1000, p99_ms: Math.round(percentile(samples, 99) * 1000) / 1000 };
        } finally {
          await client.end();
        }
      } catch (error) {
        result.postgres_append = { error: (error as Error).message };
      } finally {
        const client = new Client({ connectionString: postgresUrl });
        await client.connect().then(() => client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)).catch(() => undefined);
        await client.end().catch(() => undefined);
      }
    }

    if (verifyRecords > 0) {
      const big = await openAuditStore(`sqlite:${path.join(dir, 'verify.sqlite')}`, { hmacKey: KEY });
      const fillStart = performance.now();
      let middleId = '';
      for (let index = 0; index < verifyRecords; index++) {
        const appended = await big.append(buildAuditEvent(fields(index), 'redacted'));
        if (index === Math.floor(verifyRecords / 2)) middleId = appended.id ?? '';
        if ((index + 1) % 10000 === 0) process.stderr.write(`bench-audit: ${index + 1} records written\n`);
      }
      const fillSeconds = (performance.now() - fillStart) / 1000;
      const verifyStart = performance.now();
      const verified = await big.verify();
      const verifySeconds = (performance.now() - verifyStart) / 1000;
      const proofStart = performance.now();
      const proof = await big.prove(middleId);
      const proofSeconds = (performance.now() - proofStart) / 1000;
      await big.close();
      result.sqlite_verify = {
        records: verifyRecords,
        ok: verified.ok,
        seconds: Math.round(verifySeconds * 1000) / 1000,
        records_per_second: Math.round(verifyRecords / verifySeconds),
        fill_seconds: Math.round(fillSeconds * 10) / 10,
        inclusion_proof_seconds: Math.round(proofSeconds * 1000) / 1000,
        inclusion_proof_path_length: proof?.audit_path.length ?? null,
        db_bytes: fs.statSync(path.join(dir, 'verify.sqlite')).size,
      };
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const text = `${JSON.stringify(result, null, 2)}\n`;
  process.stdout.write(text);
  if (args.values.out) fs.writeFileSync(args.values.out, text);
}

main().catch((error) => {
  process.stderr.write(`bench-audit: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
