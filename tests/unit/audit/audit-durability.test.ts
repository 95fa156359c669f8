/**
 * Durability modes on a real SQLite store: async (bounded queue, drops counted, ids known up front,
 * close flushes) and fail_mode closed/open when the store fails.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import client from 'prom-client';
import { buildAuditEvent } from '../../../src/audit/audit-event';
import { openAuditStore } from '../../../src/audit/open-audit-store';
import { withAuditDurability } from '../../../src/audit/with-audit-durability';
import { createAuditSink } from '../../../src/audit/audit-sink';
import { GatewayError } from '../../../src/errors/gateway-error';
import type { AuditStore } from '../../../src/audit/audit-store';
import { sampleFields } from './audit-store-conformance';

const KEY = Buffer.alloc(32, 3);

describe('audit durability modes', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rein-audit-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('async: append resolves with the record id at once; close flushes; the log verifies', async () => {
    const url = `sqlite:${path.join(dir, 'a.sqlite')}`;
    const store = await openAuditStore(url, { hmacKey: KEY, mode: 'async' });
    const results = await Promise.all(Array.from({ length: 50 }, (_, index) => store.append(buildAuditEvent(sampleFields(index), 'full'))));
    expect(results.every((result) => result.seq === null && /^aud_[0-9a-f]{32}$/.test(result.id ?? ''))).toBe(true);
    await store.close();
    const reopened = await openAuditStore(url, { hmacKey: KEY });
    expect(await reopened.verify()).toEqual(expect.objectContaining({ ok: true, records: 50 }));
    for (const { id } of results) expect(await reopened.get(id!)).not.toBeNull();
    await reopened.close();
  });

  test('async: a full queue drops and counts every loss on a prom-client Counter', async () => {
    const registry = new client.Registry();
    const dropped = new client.Counter({ name: 'rein_audit_dropped_total', help: 'drops', registers: [registry] });
    const url = `sqlite:${path.join(dir, 'b.sqlite')}`;
    const store = await openAuditStore(url, { hmacKey: KEY, mode: 'async', queueSize: 5, dropped });
    // Appends are synchronous up to the queue: the writer cannot drain before this loop ends.
    const results = [];
    for (let index = 0; index < 20; index++) results.push(store.append(buildAuditEvent(sampleFields(index), 'full')));
    const resolved = await Promise.all(results);
    await store.close();
    const metric = await registry.getSingleMetric('rein_audit_dropped_total')!.get();
    expect(resolved.filter((result) => result.id === null)).toHaveLength(metric.values[0].value); // each drop is known to its caller
    const reopened = await openAuditStore(url, { hmacKey: KEY });
    const verified = await reopened.verify();
    await reopened.close();
    expect(verified.ok).toBe(true);
    if (verified.ok) {
      expect(verified.records).toBeGreaterThanOrEqual(5);
      expect(verified.records + metric.values[0].value).toBe(20);
    }
    expect(metric.values[0].value).toBeGreaterThan(0);
  });

  function failingStore(): AuditStore {
    return {
      append: async () => {
        throw new GatewayError('unavailable', 'audit store unavailable: disk gone');
      },
      list: async () => ({ records: [], next_cursor: null }),
      get: async () => null,
      prove: async () => null,
      export: async function* () {},
      verify: async () => ({ ok: true, records: 0, head: { seq: 0, id: null, hash: '', tree_size: 0, root: '' } }),
      prune: async () => ({ deleted: 0, anchor_seq: 0 }),
      health: async () => ({ ok: false, store: 'sqlite', mode: 'sync', detail: 'disk gone' }),
      close: async () => undefined,
    };
  }

  test('fail_mode closed: append rejects with unavailable (503)', async () => {
    const store = withAuditDurability(failingStore(), { failMode: 'closed' });
    await expect(store.append(buildAuditEvent(sampleFields(1), 'full'))).rejects.toMatchObject({ code: 'unavailable', status: 503 });
  });

  test('fail_mode open: append resolves unrecorded, the loss is counted via callback', async () => {
    const reasons: string[] = [];
    const store = withAuditDurability(failingStore(), { failMode: 'open', dropped: (reason) => reasons.push(reason) });
    const result = await store.append(buildAuditEvent(sampleFields(1), 'full'));
    expect(result).toEqual({ id: null, seq: null });
    expect(reasons).toEqual(['store_error']);
  });

  test('async: a failing store drops and counts, never rejects', async () => {
    const reasons: string[] = [];
    const store = withAuditDurability(failingStore(), { mode: 'async', dropped: (reason) => reasons.push(reason) });
    await store.append(buildAuditEvent(sampleFields(1), 'full'));
    await store.append(buildAuditEvent(sampleFields(2), 'full'));
    await store.close();
    expect(reasons).toEqual(['store_error', 'store_error']);
  });

  test('a closed sync store refuses appends with unavailable', async () => {
    const store = await openAuditStore(`sqlite:${path.join(dir, 'c.sqlite')}`, { hmacKey: KEY });
    await store.close();
    await expect(store.append(buildAuditEvent(sampleFields(1), 'full'))).rejects.toMatchObject({ code: 'unavailable' });
  });
});

describe('createAuditSink (the pipeline adapter)', () => {
  test('records at the given level and returns the committed record id', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rein-audit-'));
    try {
      const store = await openAuditStore(`sqlite:${path.join(dir, 's.sqlite')}`, { hmacKey: KEY });
      const sink = createAuditSink(store);
      const id = await sink.record(sampleFields(4), 'hashes');
      const record = await store.get(id!);
      expect(record?.event.audit_level).toBe('hashes');
      expect(JSON.stringify(record?.event)).not.toContain('prompt number 4');
      expect(await sink.health()).toEqual({ ok: true });
      await store.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
