/**
 * Several processes, one log: two writer processes appending concurrently to one PostgreSQL log (and to
 * one SQLite file) → one chain that verifies, with every append of both; and kill -9 of a writer in the
 * middle of a burst of 200 appends → every append that resolved before the kill is in the log and the
 * chain verifies (SQLite with WAL + synchronous=NORMAL, and PostgreSQL).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execSync, fork, type ChildProcess } from 'node:child_process';
import { openAuditStore } from '../../../src/audit/open-audit-store';
import { childEnv, compileForChild } from './compile-for-child';
import { dropSchema, TEST_POSTGRES_URL, uniqueSchema } from './pg-test-schema';

const KEY_TEXT = 'hex:' + '5a'.repeat(32);
let compiled = '';
beforeAll(() => {
  compiled = compileForChild(['tests/integration/audit/audit-writer-child.ts']);
});
afterAll(() => fs.rmSync(compiled, { recursive: true, force: true }));

interface ChildRun {
  child: ChildProcess;
  appended: Array<{ id: string; seq: number }>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function startWriter(url: string, count: number, concurrency: number, label: string, onAppended?: (run: ChildRun) => void): ChildRun {
  const child = fork(path.join(compiled, 'tests/integration/audit/audit-writer-child.js'), [url, String(count), String(concurrency), label], {
    env: childEnv({ REIN_AUDIT_HMAC_KEY: KEY_TEXT }),
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const run: ChildRun = { child, appended: [], exited: new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal }))) };
  child.on('message', (message: { type: string; id: string; seq: number }) => {
    if (message.type !== 'appended') return;
    run.appended.push({ id: message.id, seq: message.seq });
    onAppended?.(run);
  });
  return run;
}

function postgresReachableSync(): boolean {
  try {
    execSync(`node -e "const {Client}=require('pg');const c=new Client({connectionString:process.argv[1],connectionTimeoutMillis:2000});c.connect().then(()=>c.end()).then(()=>process.exit(0),()=>process.exit(1))" '${TEST_POSTGRES_URL}'`, { stdio: 'ignore', timeout: 10000 });
    return true;
  } catch {
    return false;
  }
}

async function expectAllPresentAndVerified(url: string, runs: ChildRun[], expectedRecords?: number): Promise<void> {
  const store = await openAuditStore(url, { hmacKey: KEY_TEXT });
  try {
    const verified = await store.verify();
    expect(verified).toEqual(expect.objectContaining({ ok: true }));
    if (expectedRecords !== undefined && verified.ok) expect(verified.records).toBe(expectedRecords);
    for (const run of runs) {
      for (const { id, seq } of run.appended) {
        const record = await store.get(id);
        expect(record?.seq).toBe(seq);
      }
    }
  } finally {
    await store.close();
  }
}

const backends: Array<[string, () => Promise<{ url: string; cleanup(): Promise<void> }>]> = [
  [
    'sqlite',
    async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rein-audit-mp-'));
      return { url: `sqlite:${path.join(dir, 'audit.sqlite')}`, cleanup: async () => fs.rmSync(dir, { recursive: true, force: true }) };
    },
  ],
];
if (postgresReachableSync()) {
  backends.push([
    'postgres',
    async () => {
      const schema = uniqueSchema();
      return { url: `${TEST_POSTGRES_URL}?schema=${schema}`, cleanup: () => dropSchema(schema) };
    },
  ]);
} else {
  describe.skip(`audit multi-process on postgres [skipped: no PostgreSQL at ${TEST_POSTGRES_URL}]`, () => {
    test('two writers, kill -9', () => undefined);
  });
}

describe.each(backends)('audit log shared by processes (%s)', (_name, makeTarget) => {
  let target: { url: string; cleanup(): Promise<void> };
  beforeEach(async () => {
    target = await makeTarget();
    // Create the tables once up front so the two children do not race on first-time set-up.
    await (await openAuditStore(target.url, { hmacKey: KEY_TEXT })).close();
  });
  afterEach(async () => target.cleanup());

  test('two writer processes appending concurrently produce one chain that verifies', async () => {
    const first = startWriter(target.url, 100, 4, 'a');
    const second = startWriter(target.url, 100, 4, 'b');
    const [one, two] = await Promise.all([first.exited, second.exited]);
    expect(one).toEqual({ code: 0, signal: null });
    expect(two).toEqual({ code: 0, signal: null });
    expect(first.appended).toHaveLength(100);
    expect(second.appended).toHaveLength(100);
    const seqs = [...first.appended, ...second.appended].map((item) => item.seq).sort((a, b) => a - b);
    expect(seqs).toEqual(Array.from({ length: 200 }, (_, index) => index + 1));
    await expectAllPresentAndVerified(target.url, [first, second], 200);
  });

  test('kill -9 during a burst of 1000 appends: every resolved append is in the log and the chain verifies', async () => {
    let killed = false;
    // 1000, not 200: with group commit a writer can finish 200 appends before the kill lands.
    const run = startWriter(target.url, 1000, 4, 'k', (current) => {
      if (!killed && current.appended.length >= 60) {
        killed = true;
        current.child.kill('SIGKILL');
      }
    });
    const exit = await run.exited;
    expect(exit.signal).toBe('SIGKILL');
    expect(run.appended.length).toBeGreaterThanOrEqual(60);
    expect(run.appended.length).toBeLessThan(1000);
    await expectAllPresentAndVerified(target.url, [run]);
    // The log stays writable after the crash: a new writer continues the chain.
    const after = startWriter(target.url, 5, 1, 'after');
    expect(await after.exited).toEqual({ code: 0, signal: null });
    await expectAllPresentAndVerified(target.url, [run, after]);
  });
});
