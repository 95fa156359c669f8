/**
 * Shared conformance cases for every AuditStore implementation (SQLite here, PostgreSQL in
 * tests/integration/audit): append/list/get/export, inclusion proofs, retention, and tampering —
 * edit, delete (middle and newest), reorder, truncate — each must make verify fail and name the record.
 * `fixture.exec` runs raw SQL against the store's tables (unqualified names) to play the attacker.
 */
import { buildAuditEvent, type AuditEventFields } from '../../../src/audit/audit-event';
import type { AuditStore } from '../../../src/audit/audit-store';
import type { OpenAuditStoreOptions } from '../../../src/audit/open-audit-store';
import { verifyInclusionProof } from '../../../src/audit/merkle-tree';
import { checkpointMac, recordHash } from '../../../src/audit/hash-chain';
import { canonicalJson } from '../../../src/audit/canonical-json';

export interface StoreFixture {
  open(options?: OpenAuditStoreOptions): Promise<AuditStore>;
  exec(sql: string): Promise<void>;
  key: Buffer;
}

export function sampleFields(index: number, overrides: Partial<AuditEventFields> = {}): AuditEventFields {
  return {
    requestId: `req_${index}`,
    time: new Date(Date.UTC(2026, 0, 1, 0, 0, index)),
    apiKeyId: 'key_ops',
    route: '/v1/generate',
    operation: 'text_completion',
    model: 'rein-demo',
    backend: 'onnx',
    decoding: { temperature: 0.7, seed: 1000 + index, maxTokens: 64 },
    policy: { name: index % 2 === 0 ? 'default' : 'strict', revision: 'sha256:abc' },
    findings: [],
    decision: index % 3 === 0 ? 'block' : 'allow',
    status: 200,
    input: [{ source: 'prompt', text: `prompt number ${index}` }],
    output: [{ source: 'choices/0', text: `answer ${index}` }],
    ...overrides,
  };
}

export async function appendMany(store: AuditStore, count: number, from = 1): Promise<Array<{ id: string; seq: number | null }>> {
  const results = [];
  for (let index = from; index < from + count; index++) {
    const result = await store.append(buildAuditEvent(sampleFields(index), 'full'));
    if (result.id === null) throw new Error('a sync append must return the record id');
    results.push({ id: result.id, seq: result.seq });
  }
  return results;
}

export function defineAuditStoreConformance(name: string, makeFixture: () => Promise<StoreFixture & { cleanup(): Promise<void> }>): void {
  describe(`${name}: AuditStore conformance`, () => {
    let fixture: StoreFixture & { cleanup(): Promise<void> };
    let store: AuditStore;

    beforeEach(async () => {
      fixture = await makeFixture();
      store = await fixture.open({ checkpointInterval: 4 });
    });
    afterEach(async () => {
      await store.close();
      await fixture.cleanup();
    });

    test('an empty log verifies', async () => {
      const result = await store.verify();
      expect(result).toEqual(expect.objectContaining({ ok: true, records: 0 }));
    });

    test('append assigns consecutive seqs; get, list with filters and cursor pagination, export', async () => {
      const appended = await appendMany(store, 10);
      expect(appended.map((result) => result.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      const record = await store.get(appended[4].id);
      expect(record?.seq).toBe(5);
      expect(record?.event.request_id).toBe('req_5');
      expect(record?.event.attributes['gen_ai.request.seed']).toBe(1005);
      expect(await store.get('aud_00000000000000000000000000000000')).toBeNull();

      const first = await store.list({ limit: 4 });
      expect(first.records.map((item) => item.seq)).toEqual([10, 9, 8, 7]);
      expect(first.next_cursor).not.toBeNull();
      const second = await store.list({ limit: 4, cursor: first.next_cursor! });
      expect(second.records.map((item) => item.seq)).toEqual([6, 5, 4, 3]);
      const third = await store.list({ limit: 4, cursor: second.next_cursor! });
      expect(third.records.map((item) => item.seq)).toEqual([2, 1]);
      expect(third.next_cursor).toBeNull();

      const blocked = await store.list({ decision: 'block' });
      expect(blocked.records.map((item) => item.event.request_id)).toEqual(['req_9', 'req_6', 'req_3']);
      const strict = await store.list({ policy: 'strict', decision: 'allow' });
      expect(strict.records.map((item) => item.event.request_id)).toEqual(['req_7', 'req_5', 'req_1']);

      const exported: number[] = [];
      for await (const item of store.export({})) exported.push(item.seq);
      expect(exported).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);

      const after = (await store.get(appended[5].id))!.time;
      const since: number[] = [];
      for await (const item of store.export({ since: after })) since.push(item.seq);
      expect(since[0]).toBeLessThanOrEqual(6);
      expect(since).toContain(10);
      const verified = await store.verify();
      expect(verified).toEqual({ ok: true, records: 10, head: expect.objectContaining({ seq: 10, tree_size: 10, id: appended[9].id }) });
    });

    test('inclusion proof of every record verifies against the signed head; a wrong leaf does not', async () => {
      const appended = await appendMany(store, 7);
      for (const { id } of appended) {
        const proof = (await store.prove(id))!;
        const record = (await store.get(id))!;
        expect(proof.tree_size).toBe(7);
        expect(proof.checkpoint_mac).toBe(checkpointMac(fixture.key, proof.tree_size, proof.root));
        expect(verifyInclusionProof(Buffer.from(record.hash, 'hex'), proof.leaf_index, proof.tree_size, proof.audit_path, proof.root)).toBe(true);
        expect(verifyInclusionProof(Buffer.from(record.prev_hash, 'hex'), proof.leaf_index, proof.tree_size, proof.audit_path, proof.root)).toBe(false);
      }
      expect(await store.prove('aud_00000000000000000000000000000000')).toBeNull();
    });

    test('edited content: verify names the edited record', async () => {
      await appendMany(store, 9);
      await fixture.exec(`UPDATE audit_records SET event = replace(event, 'prompt number 5', 'prompt number X') WHERE seq = 5`);
      const result = await store.verify();
      expect(result.ok).toBe(false);
      if (!result.ok) {
        expect(result.first_bad.seq).toBe(5);
        expect(result.first_bad.reason).toMatch(/edited/);
      }
    });

    test('edited and re-hashed without the key: the record MAC names it', async () => {
      const appended = await appendMany(store, 6);
      // The attacker edits record 3 and recomputes its chain hash (all public); only the MAC needs the key.
      const record = (await store.get(appended[2].id))!;
      const event = { ...record.event, decision: 'allow' as const };
      const hash = recordHash({ id: record.id, seq: record.seq, time: record.time, prev_hash: record.prev_hash, event });
      const text = canonicalJson(event).replace(/'/g, "''");
      await fixture.exec(`UPDATE audit_records SET event = '${text}', decision = 'allow', hash = '${hash}' WHERE seq = 3`);
      const result = await store.verify();
      expect(result).toEqual({ ok: false, first_bad: { seq: 3, id: record.id, reason: expect.stringMatching(/MAC/) } });
    });

    test('edited index column (decision) is detected', async () => {
      await appendMany(store, 4);
      await fixture.exec(`UPDATE audit_records SET decision = 'allow' WHERE seq = 3`);
      const result = await store.verify();
      expect(result).toEqual({ ok: false, first_bad: expect.objectContaining({ seq: 3, reason: expect.stringMatching(/index columns/) }) });
    });

    test('a deleted middle record is named by its seq', async () => {
      await appendMany(store, 8);
      await fixture.exec(`DELETE FROM audit_records WHERE seq = 4`);
      const result = await store.verify();
      expect(result).toEqual({ ok: false, first_bad: { seq: 4, id: null, reason: expect.stringMatching(/missing/) } });
    });

    test('a deleted newest record is detected against the signed head', async () => {
      await appendMany(store, 6);
      await fixture.exec(`DELETE FROM audit_records WHERE seq = 6`);
      const result = await store.verify();
      expect(result).toEqual({ ok: false, first_bad: { seq: 6, id: null, reason: expect.stringMatching(/removed tail/) } });
    });

    test('a removed tail with the head rolled back is detected against the last checkpoint', async () => {
      await appendMany(store, 5);
      // Attacker saves the head at size 5, lets the log grow past the checkpoint at 8, then truncates and restores.
      await fixture.exec(`CREATE TABLE saved_head AS SELECT * FROM audit_head`);
      await appendMany(store, 5, 6);
      await fixture.exec(`DELETE FROM audit_records WHERE seq > 5`);
      await fixture.exec(`DELETE FROM audit_head`);
      await fixture.exec(`INSERT INTO audit_head SELECT * FROM saved_head`);
      const result = await store.verify();
      expect(result).toEqual({ ok: false, first_bad: { seq: 6, id: null, reason: expect.stringMatching(/checkpoint covers tree size 8/) } });
    });

    test('two records swapped (reordered) are detected at the first of them', async () => {
      await appendMany(store, 6);
      await fixture.exec(`UPDATE audit_records SET seq = 100 WHERE seq = 3`);
      await fixture.exec(`UPDATE audit_records SET seq = 3 WHERE seq = 4`);
      await fixture.exec(`UPDATE audit_records SET seq = 4 WHERE seq = 100`);
      const result = await store.verify();
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.first_bad.seq).toBe(3);
    });

    test('a forged checkpoint is detected', async () => {
      await appendMany(store, 8);
      await fixture.exec(`UPDATE audit_checkpoints SET root = '${'ab'.repeat(32)}' WHERE tree_size = 4`);
      const result = await store.verify();
      expect(result).toEqual({ ok: false, first_bad: expect.objectContaining({ seq: 4, reason: expect.stringMatching(/checkpoint at tree size 4/) }) });
    });

    test('a log opened with another key does not verify', async () => {
      await appendMany(store, 3);
      const other = await fixture.open({ hmacKey: Buffer.alloc(32, 7) });
      try {
        const result = await other.verify();
        expect(result).toEqual({ ok: false, first_bad: expect.objectContaining({ seq: 1, reason: expect.stringMatching(/another key.*created with key id [0-9a-f]{16}/) }) });
      } finally {
        await other.close();
      }
    });

    test('prune keeps the rest verifiable and provable from the anchor; a second prune extends it', async () => {
      let clock = new Date('2026-01-01T00:00:00Z').getTime();
      await store.close();
      store = await fixture.open({ checkpointInterval: 4, now: () => new Date(clock) });
      const appended: string[] = [];
      for (let index = 1; index <= 11; index++) {
        appended.push((await appendMany(store, 1, index))[0].id);
        clock += 86_400_000; // one record per day
      }
      // now = day 11; keep 5 days → records of days 0..5 (seq 1..6) go
      const first = await store.prune(5);
      expect(first).toEqual({ deleted: 6, anchor_seq: 6 });
      expect(await store.get(appended[0])).toBeNull();
      expect(await store.verify()).toEqual(expect.objectContaining({ ok: true, records: 5 }));
      for (const id of appended.slice(6)) {
        const proof = (await store.prove(id))!;
        const record = (await store.get(id))!;
        expect(verifyInclusionProof(Buffer.from(record.hash, 'hex'), proof.leaf_index, proof.tree_size, proof.audit_path, proof.root)).toBe(true);
      }
      await appendMany(store, 2, 12);
      clock += 3 * 86_400_000;
      const second = await store.prune(5);
      expect(second.anchor_seq).toBeGreaterThan(6);
      expect(await store.verify()).toEqual(expect.objectContaining({ ok: true }));
      expect(await store.prune(5)).toEqual({ deleted: 0, anchor_seq: second.anchor_seq });
    });

    test('after prune, deleting the first kept record is still named', async () => {
      let clock = new Date('2026-01-01T00:00:00Z').getTime();
      await store.close();
      store = await fixture.open({ checkpointInterval: 4, now: () => new Date(clock) });
      for (let index = 1; index <= 6; index++) {
        await store.append(buildAuditEvent(sampleFields(index), 'full'));
        clock += 86_400_000;
      }
      await store.prune(3); // keeps seq 4..6 (now = day 6, cutoff = day 3)
      await fixture.exec(`DELETE FROM audit_records WHERE seq = 4`);
      expect(await store.verify()).toEqual({ ok: false, first_bad: { seq: 4, id: null, reason: expect.stringMatching(/missing/) } });
    });

    test('verify while appends continue never raises a false alarm, and reads see committed records only', async () => {
      await appendMany(store, 5);
      const writing = appendMany(store, 60, 6);
      const results = [];
      for (let round = 0; round < 6; round++) {
        results.push(await store.verify());
        const page = await store.list({ limit: 5 });
        for (const record of page.records) expect(await store.get(record.id)).not.toBeNull();
      }
      await writing;
      for (const result of results) expect(result).toEqual(expect.objectContaining({ ok: true }));
      expect(await store.verify()).toEqual(expect.objectContaining({ ok: true, records: 65 }));
    });

    test('concurrent appends are committed in groups: every record keeps its own seq, checkpoints inside a group are written, the log verifies', async () => {
      const results = await Promise.all(Array.from({ length: 30 }, (_, index) => store.append(buildAuditEvent(sampleFields(index + 1), 'full'))));
      expect(results.map((result) => result.seq).sort((a, b) => a! - b!)).toEqual(Array.from({ length: 30 }, (_, index) => index + 1));
      expect(new Set(results.map((result) => result.id)).size).toBe(30);
      for (const result of results) expect((await store.get(result.id!))?.seq).toBe(result.seq);
      expect(await store.verify()).toEqual(expect.objectContaining({ ok: true, records: 30 }));
      // checkpointInterval is 4 here: tree sizes 4, 8, …, 28 each have a checkpoint that proves against.
      const proof = await store.prove(results[0].id!);
      expect(proof?.tree_size).toBe(30);
    });

    test('a record that fails inside a group fails alone; the others of its group are written', async () => {
      const [first] = await appendMany(store, 1);
      const batch = Array.from({ length: 12 }, (_, index) =>
        store.append(buildAuditEvent(sampleFields(index + 2), 'full'), index === 5 ? { id: first.id } : {}).then(
          (result) => ({ ok: true as const, seq: result.seq }),
          (error: Error) => ({ ok: false as const, error }),
        ),
      );
      const outcomes = await Promise.all(batch);
      expect(outcomes.filter((outcome) => !outcome.ok)).toHaveLength(1);
      expect(outcomes[5].ok).toBe(false);
      const written = outcomes.filter((outcome) => outcome.ok).map((outcome) => (outcome as { seq: number }).seq).sort((a, b) => a - b);
      expect(written).toEqual(Array.from({ length: 11 }, (_, index) => index + 2));
      expect(await store.verify()).toEqual(expect.objectContaining({ ok: true, records: 12 }));
    });

    test('the head is read from the database on every append: an edited frontier fails the next append, the restored one lets appends continue', async () => {
      await appendMany(store, 3);
      await fixture.exec(`CREATE TABLE saved_frontier AS SELECT frontier FROM audit_head`);
      await fixture.exec(`UPDATE audit_head SET frontier = '["not a hash"]'`);
      await expect(appendMany(store, 1, 4)).rejects.toThrow(/frontier is not a list of hashes/);
      await fixture.exec(`UPDATE audit_head SET frontier = (SELECT frontier FROM saved_frontier)`);
      await appendMany(store, 3, 4);
      expect(await store.verify()).toEqual(expect.objectContaining({ ok: true, records: 6 }));
    });

    test('health reports the store', async () => {
      expect(await store.health()).toEqual(expect.objectContaining({ ok: true, mode: 'sync' }));
    });
  });
}
