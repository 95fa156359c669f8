/**
 * The SQLite audit store against the shared conformance cases, on real files in a temp folder, plus
 * SQLite specifics: the generated key file (mode 0600, reused on reopen) and reopening a log.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { openAuditStore, parseAuditStoreUrl } from '../../../src/audit/open-audit-store';
import { AUDIT_KEY_FILE } from '../../../src/audit/audit-key';
import { appendMany, defineAuditStoreConformance } from './audit-store-conformance';

const KEY = Buffer.alloc(32, 1);

defineAuditStoreConformance('sqlite', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rein-audit-'));
  const file = path.join(dir, 'audit.sqlite');
  return {
    key: KEY,
    open: (options = {}) => openAuditStore(`sqlite:${file}`, { hmacKey: KEY, ...options }),
    async exec(sql: string) {
      const db = new Database(file);
      try {
        db.exec(sql);
      } finally {
        db.close();
      }
    },
    async cleanup() {
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe('sqlite audit store specifics', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rein-audit-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('without a configured key, one is generated next to the database with mode 0600, logged, and reused', async () => {
    const messages: string[] = [];
    const logger = { info: (message: string) => messages.push(message), warn: (message: string) => messages.push(message), error: (message: string) => messages.push(message) };
    const url = `sqlite:${path.join(dir, 'sub', 'audit.sqlite')}`;
    const store = await openAuditStore(url, { logger });
    await appendMany(store, 3);
    await store.close();
    const keyFile = path.join(dir, 'sub', AUDIT_KEY_FILE);
    expect(fs.statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(messages.some((message) => /generated a new audit HMAC key/.test(message))).toBe(true);

    const again = await openAuditStore(url, { logger, readOnlyKey: true });
    expect(await again.verify()).toEqual(expect.objectContaining({ ok: true, records: 3 }));
    await appendMany(again, 1, 4);
    expect(await again.verify()).toEqual(expect.objectContaining({ ok: true, records: 4 }));
    await again.close();
    expect(messages.filter((message) => /generated/.test(message))).toHaveLength(1);
  });

  test('a read-only open refuses to invent a key', async () => {
    await expect(openAuditStore(`sqlite:${path.join(dir, 'audit.sqlite')}`, { readOnlyKey: true })).rejects.toThrow(/no audit HMAC key/);
  });

  test('store URLs: sqlite paths, postgres with ?schema= split off, unsafe schema names refused before connecting', async () => {
    expect(parseAuditStoreUrl('sqlite:./data/audit.sqlite')).toEqual({ kind: 'sqlite', target: './data/audit.sqlite' });
    expect(parseAuditStoreUrl('postgres://user@db.internal:5432/rein?schema=audit_a&sslmode=require')).toEqual({
      kind: 'postgres',
      target: 'postgres://user@db.internal:5432/rein?sslmode=require',
      schema: 'audit_a',
    });
    await expect(openAuditStore('postgres://user@127.0.0.1:1/x?schema=a;drop', { hmacKey: KEY })).rejects.toThrow(/invalid PostgreSQL schema name/);
  });

  test('bad store URLs are refused', async () => {
    await expect(openAuditStore('mysql://x', { hmacKey: KEY })).rejects.toThrow(/sqlite: or postgres/);
    await expect(openAuditStore('sqlite:', { hmacKey: KEY })).rejects.toThrow(/names no file/);
  });
});
