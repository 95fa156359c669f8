/**
 * `rein audit …` as a user runs it: the real dispatcher (src/cli.ts) in a child process against a real
 * SQLite log — verify (exit 0, then exit 1 naming the edited record), export (NDJSON, --since),
 * replay where the build lacks src/pipeline/replay (exit 2, clear message), bad arguments (exit 2).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import Database from 'better-sqlite3';
import { openAuditStore } from '../../../src/audit/open-audit-store';
import { appendMany } from '../../unit/audit/audit-store-conformance';
import { childEnv, compileForChild } from './compile-for-child';

const KEY_TEXT = 'hex:' + '6b'.repeat(32);

describe('rein audit CLI', () => {
  let compiled: string;
  let dir: string;
  let url: string;
  let ids: string[];

  beforeAll(async () => {
    compiled = compileForChild(['src/cli.ts', 'src/cli/audit-command.ts']);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rein-audit-cli-'));
    url = `sqlite:${path.join(dir, 'audit.sqlite')}`;
    const store = await openAuditStore(url, { hmacKey: KEY_TEXT });
    ids = (await appendMany(store, 12)).map((result) => result.id);
    await store.close();
  });
  afterAll(() => {
    fs.rmSync(compiled, { recursive: true, force: true });
    fs.rmSync(dir, { recursive: true, force: true });
  });

  function rein(...args: string[]) {
    const result = spawnSync(process.execPath, [path.join(compiled, 'src/cli.js'), 'audit', ...args], {
      env: childEnv({ REIN_AUDIT_HMAC_KEY: KEY_TEXT, REIN_CONFIG: '' }),
      cwd: dir,
      encoding: 'utf8',
      timeout: 60000,
    });
    return { code: result.status, stdout: result.stdout, stderr: result.stderr };
  }

  test('export prints every record as NDJSON, oldest first; --since filters', () => {
    const all = rein('export', '--db', url);
    expect(all.code).toBe(0);
    const records = all.stdout.trimEnd().split('\n').map((line) => JSON.parse(line));
    expect(records.map((record) => record.id)).toEqual(ids);
    const since = rein('export', '--db', url, '--since', records[8].time);
    expect(since.code).toBe(0);
    const later = since.stdout.trimEnd().split('\n').map((line) => JSON.parse(line).seq);
    const expected = records.filter((record) => record.time >= records[8].time).map((record) => record.seq);
    expect(later).toEqual(expected);
    expect(expected).toEqual(expect.arrayContaining([9, 10, 11, 12]));
  });

  test('replay where the build has no src/pipeline/replay exits 2 with a clear message; an unknown id exits 2', () => {
    // A build without the replay module (the integrator's src/pipeline/replay.ts; its own tests cover replaying).
    fs.rmSync(path.join(compiled, 'src/pipeline/replay.js'), { force: true });
    const result = rein('replay', ids[0], '--db', url);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/replay is not available/);
    const unknown = rein('replay', 'aud_00000000000000000000000000000000', '--db', url);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/no audit record/);
  });

  test('bad arguments and a missing database exit 2', () => {
    expect(rein('frobnicate').code).toBe(2);
    expect(rein('verify', '--colour', 'red').code).toBe(2);
    expect(rein('export', '--db', url, '--since', 'yesterday').code).toBe(2);
    const missing = rein('verify', '--db', `sqlite:${path.join(dir, 'nope.sqlite')}`);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/no audit database/);
  });

  test('verify exits 0 on an intact log, 1 naming the first bad record after an edit', () => {
    const ok = rein('verify', '--db', url);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toEqual(expect.objectContaining({ ok: true, records: 12 }));
    const db = new Database(path.join(dir, 'audit.sqlite'));
    db.exec(`UPDATE audit_records SET event = replace(event, 'answer 7', 'answer 8') WHERE seq = 7`);
    db.close();
    const bad = rein('verify', '--db', url);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout)).toEqual({ ok: false, first_bad: { seq: 7, id: ids[6], reason: expect.stringMatching(/edited/) } });
    expect(bad.stderr).toContain(`seq 7 (${ids[6]})`);
  });
});
