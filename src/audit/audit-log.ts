/**
 * createAuditLog: the tamper-evident audit log over any AuditDriver (SQLite, PostgreSQL).
 *
 * Integrity, in layers:
 *   - hash chain: record n's hash covers (seq, id, time, prev_hash = hash of n-1, event);
 *   - record MAC: HMAC(key, hash), so an edited record cannot be re-hashed without the key;
 *   - signed tree head: on every append, in the same transaction, the RFC 6962 Merkle root over all
 *     record hashes and HMAC(key, tree size, root) are rewritten — so deleting the newest record(s)
 *     is detected (the head says there were more);
 *   - checkpoints every K records keep historical (tree size, root, HMAC) — a removed tail or a
 *     rolled-back head is detected against the last checkpoint that covered it;
 *   - retention anchor: prune() deletes old records and stores the signed frontier at the cut, so the
 *     remaining records and all later checkpoints still verify and still have inclusion proofs.
 * Limit (documented in docs/decisions/0002-audit-ordering.md): anyone holding the key, or a database
 * writer who saved an older head row and puts it back together with deleting the newer records, can
 * truncate the log back to that head unless a checkpoint beyond it survives; ship checkpoints off the
 * box (the verify `head`, or export) to close that gap.
 */
import { GatewayError } from '../errors/gateway-error';
import { parseJson } from '../util/parse-json';
import type { AuditEvent } from './audit-event';
import { canonicalJson } from './canonical-json';
import { checkpointMac, GENESIS_HASH, keyId, recordHashFromText, recordMac } from './hash-chain';
import { CompactRange, PrunedTree, EMPTY_TREE_ROOT, verifyInclusionProof } from './merkle-tree';
import type { AuditDriver, AuditHeadRow, AuditRow, AuditRowFilter } from './audit-driver';
import { AUDIT_ID_PATTERN, newAuditId } from './audit-store';
import type {
  AuditAppendOptions,
  AuditAppendResult,
  AuditFilter,
  AuditHead,
  AuditInclusionProof,
  AuditPage,
  AuditPruneResult,
  AuditRecord,
  AuditStore,
  AuditVerifyResult,
  AuditHealth,
} from './audit-store';

export interface AuditLogOptions {
  /** HMAC key for record MACs and checkpoints. */
  key: Buffer;
  /** Persist a checkpoint every K records (default 1000). The signed head is rewritten on every append regardless. */
  checkpointInterval?: number;
  /** Clock, for tests of retention. */
  now?: () => Date;
  /** Rows per page when streaming (export, verify). */
  pageSize?: number;
}

export const DEFAULT_CHECKPOINT_INTERVAL = 1000;
const LIST_LIMIT_DEFAULT = 100;
const LIST_LIMIT_MAX = 1000;

export function encodeCursor(seq: number): string {
  return Buffer.from(`s:${seq}`, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): number {
  const text = cursor.length <= 64 ? Buffer.from(cursor, 'base64url').toString('utf8') : '';
  const match = /^s:(\d{1,15})$/.exec(text);
  if (!match) throw new GatewayError('invalid_request', 'cursor is not one this server issued', { param: 'cursor' });
  return Number(match[1]);
}

function rowFilter(filter: AuditFilter): AuditRowFilter {
  return { since: filter.since, until: filter.until, decision: filter.decision, policy: filter.policy };
}

function parseEvent(row: AuditRow): { ok: true; event: AuditEvent } | { ok: false; error: string } {
  const parsed = parseJson<AuditEvent>(row.event);
  if (!parsed.ok) return { ok: false, error: parsed.error };
  if (!parsed.value || typeof parsed.value !== 'object' || Array.isArray(parsed.value)) return { ok: false, error: 'event is not an object' };
  return { ok: true, event: parsed.value };
}

function toRecord(row: AuditRow): AuditRecord {
  const parsed = parseEvent(row);
  if (!parsed.ok) throw new GatewayError('internal_error', `audit record seq ${row.seq} is corrupt (${parsed.error}); run audit verify`);
  return { id: row.id, seq: row.seq, time: row.time, prev_hash: row.prev_hash, hash: row.hash, mac: row.mac, event: parsed.event };
}

function unavailable(error: unknown): GatewayError {
  if (error instanceof GatewayError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new GatewayError('unavailable', `audit store unavailable: ${message}`, { cause: error });
}

export function createAuditLog(driver: AuditDriver, options: AuditLogOptions): AuditStore & { readonly keyId: string; initialize(): Promise<void> } {
  const key = options.key;
  const interval = options.checkpointInterval ?? DEFAULT_CHECKPOINT_INTERVAL;
  if (!Number.isInteger(interval) || interval < 1) throw new TypeError('checkpointInterval must be a positive integer');
  const now = options.now ?? (() => new Date());
  const pageSize = options.pageSize ?? 1000;
  const currentKeyId = keyId(key);
  let storedKeyId = currentKeyId;
  let closed = false;
  /** Added to MAC failures when the log was created under another key id. */
  const keyHint = () => (storedKeyId !== currentKeyId ? ` [the log was created with key id ${storedKeyId}; this key's id is ${currentKeyId}]` : '');

  function signHead(treeSize: number, lastHash: string, range: CompactRange): AuditHeadRow {
    const root = range.root();
    return { tree_size: treeSize, last_hash: lastHash, frontier: range.frontier(), root, mac: checkpointMac(key, treeSize, root) };
  }

  async function initialize(): Promise<void> {
    storedKeyId = await driver.putMetaIfAbsent('key_id', currentKeyId);
    await driver.putMetaIfAbsent('chain_version', '1');
    await driver.writeTransaction(async (transaction) => {
      if (await transaction.readHead()) return;
      // A missing head on a log that has records or an anchor is tampering: leave it for verify to report.
      if ((await transaction.countRecords()) > 0 || (await transaction.readAnchor())) return;
      await transaction.writeHead(signHead(0, GENESIS_HASH, new CompactRange()));
    });
  }

  /**
   * Group commit: appends that arrive while a write transaction is running wait for it and then go
   * into the next transaction together (one BEGIN/COMMIT, one head read and one head write for the
   * group; every record still gets its own seq, chain hash and MAC). A lone append starts its
   * transaction at once, so at low load nothing waits; under load the per-record cost falls.
   */
  interface PendingAppend {
    id: string;
    eventText: string;
    decision: string | null;
    policy: string | null;
    resolve(result: AuditAppendResult): void;
    reject(error: unknown): void;
  }
  const MAX_GROUP = 256;
  const pending: PendingAppend[] = [];
  let flushing: Promise<void> | null = null;

  async function writeGroup(group: PendingAppend[]): Promise<number[]> {
    return driver.writeTransaction(async (transaction) => {
      const head = await transaction.readHead();
      if (!head) throw new GatewayError('unavailable', 'audit log has no signed head (uninitialized or tampered); run audit verify');
      const range = CompactRange.fromFrontier(head.tree_size, head.frontier);
      const time = now().toISOString();
      let treeSize = head.tree_size;
      let lastHash = head.last_hash;
      const seqs: number[] = [];
      for (const [index, entry] of group.entries()) {
        const seq = treeSize + 1;
        const hash = recordHashFromText({ id: entry.id, seq, time, prev_hash: lastHash, eventText: entry.eventText });
        range.appendHash(hash);
        const row = { seq, id: entry.id, time, decision: entry.decision, policy: entry.policy, prev_hash: lastHash, hash, mac: recordMac(key, hash), event: entry.eventText };
        const isLast = index === group.length - 1;
        const atCheckpoint = seq % interval === 0;
        const signed = isLast || atCheckpoint ? signHead(seq, hash, range) : null;
        const checkpoint = atCheckpoint ? { tree_size: seq, root: signed!.root, mac: signed!.mac, time } : null;
        if (group.length === 1 && transaction.appendRecord) {
          await transaction.appendRecord(row, signed!, checkpoint);
        } else {
          await transaction.insertRecord(row);
          if (checkpoint) await transaction.insertCheckpoint(checkpoint);
          if (isLast) await transaction.writeHead(signed!);
        }
        treeSize = seq;
        lastHash = hash;
        seqs.push(seq);
      }
      return seqs;
    });
  }

  /**
   * Writes groups until nothing is pending. `flushing` is cleared in the same synchronous step as the
   * final emptiness check, so an append can never find a flush that is about to end and be left behind.
   */
  async function flush(): Promise<void> {
    for (;;) {
      if (pending.length === 0) {
        flushing = null;
        return;
      }
      const group = pending.splice(0, MAX_GROUP);
      try {
        const seqs = await writeGroup(group);
        group.forEach((entry, index) => entry.resolve({ id: entry.id, seq: seqs[index] }));
      } catch (error) {
        if (group.length === 1) {
          group[0].reject(unavailable(error));
          continue;
        }
        // One failing record must not take the others with it: retry them one by one.
        for (const entry of group) {
          try {
            const [seq] = await writeGroup([entry]);
            entry.resolve({ id: entry.id, seq });
          } catch (single) {
            entry.reject(unavailable(single));
          }
        }
      }
    }
  }

  function append(event: AuditEvent, appendOptions: AuditAppendOptions = {}): Promise<AuditAppendResult> {
    if (closed) return Promise.reject(new GatewayError('unavailable', 'audit store is closed'));
    if (appendOptions.id !== undefined && !AUDIT_ID_PATTERN.test(appendOptions.id)) {
      return Promise.reject(new GatewayError('internal_error', 'audit record id must come from newAuditId()'));
    }
    const id = appendOptions.id ?? newAuditId();
    let eventText: string;
    try {
      eventText = canonicalJson(event);
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise<AuditAppendResult>((resolve, reject) => {
      pending.push({ id, eventText, decision: event.decision ?? null, policy: event.policy?.name ?? null, resolve, reject });
      // The first append of a burst starts the flush after the current event-loop phase (setImmediate),
      // so appends made by other requests completing in the same phase share its transaction — with
      // SQLite, whose calls are synchronous, nothing would be grouped otherwise.
      if (!flushing) {
        flushing = new Promise<void>((resolveFlush) =>
          setImmediate(() => {
            flush().then(resolveFlush, (error: unknown) => {
              // flush handles every group's errors itself; this is a last guard so close() never hangs.
              flushing = null;
              for (const entry of pending.splice(0)) entry.reject(unavailable(error));
              resolveFlush();
            });
          }),
        );
      }
    });
  }

  async function list(filter: AuditFilter): Promise<AuditPage> {
    const limit = filter.limit ?? LIST_LIMIT_DEFAULT;
    if (!Number.isInteger(limit) || limit < 1 || limit > LIST_LIMIT_MAX) throw new GatewayError('invalid_request', `limit must be an integer in 1..${LIST_LIMIT_MAX}`, { param: 'limit' });
    const before = filter.cursor === undefined ? null : decodeCursor(filter.cursor);
    const rows = await driver.readDescending(before, limit + 1, rowFilter(filter));
    const page = rows.slice(0, limit).map(toRecord);
    return { records: page, next_cursor: rows.length > limit ? encodeCursor(page[page.length - 1].seq) : null };
  }

  async function get(id: string): Promise<AuditRecord | null> {
    const row = await driver.getById(id);
    return row ? toRecord(row) : null;
  }

  async function* exportRecords(filter: AuditFilter): AsyncIterable<AuditRecord> {
    let after = 0;
    for (;;) {
      const rows = await driver.readAscending(after, pageSize, rowFilter(filter));
      for (const row of rows) yield toRecord(row);
      if (rows.length < pageSize) return;
      after = rows[rows.length - 1].seq;
    }
  }

  async function prove(id: string): Promise<AuditInclusionProof | null> {
    const row = await driver.getById(id);
    if (!row) return null;
    const head = await driver.readHead();
    if (!head || head.tree_size < row.seq) throw new GatewayError('internal_error', 'the signed head does not cover this record; run audit verify');
    const anchor = await driver.readAnchor();
    const cut = anchor?.seq ?? 0;
    const hashes = await driver.readHashes(cut, head.tree_size);
    if (hashes.length !== head.tree_size - cut) throw new GatewayError('internal_error', 'records are missing from the log; run audit verify');
    const tree = new PrunedTree(cut, anchor?.frontier ?? [], hashes.map((hash) => Buffer.from(hash, 'hex')));
    const auditPath = tree.inclusionProof(row.seq - 1);
    // The path folds up to the root of the stored hashes: checking it against the signed head checks the log too.
    if (!verifyInclusionProof(Buffer.from(row.hash, 'hex'), row.seq - 1, head.tree_size, auditPath, head.root)) {
      throw new GatewayError('internal_error', 'the log does not match its signed head; run audit verify');
    }
    return {
      algorithm: 'rfc6962-sha256',
      leaf_index: row.seq - 1,
      leaf_data: row.hash,
      tree_size: head.tree_size,
      root: head.root,
      checkpoint_mac: head.mac,
      key_id: currentKeyId,
      audit_path: auditPath,
    };
  }

  async function verify(): Promise<AuditVerifyResult> {
    const anchorBefore = (await driver.readAnchor())?.seq ?? 0;
    const result = await verifyOnce();
    // A prune that ran while we read can make records vanish under us: check again once it has settled.
    if (!result.ok && ((await driver.readAnchor())?.seq ?? 0) !== anchorBefore) return verifyOnce();
    return result;
  }

  /**
   * One pass in seq order. Safe while appends continue: every read sees committed data only, a record
   * and its head commit together, and the head is read again after the records, so records appended
   * during the pass are verified too (or lie beyond the head we compare against) — never a false alarm.
   */
  async function verifyOnce(): Promise<AuditVerifyResult> {
    const anchor = await driver.readAnchor();
    const checkpoints = new Map((await driver.readCheckpoints()).map((checkpoint) => [checkpoint.tree_size, checkpoint]));
    let expectedSeq = 1;
    let previousHash = GENESIS_HASH;
    let previousId: string | null = null;
    let range = new CompactRange();
    if (anchor) {
      if (anchor.mac !== checkpointMac(key, anchor.seq, anchor.root)) {
        return { ok: false, first_bad: { seq: anchor.seq, id: null, reason: `retention anchor: HMAC does not match (forged anchor, or signed with another key)${keyHint()}` } };
      }
      try {
        range = CompactRange.fromFrontier(anchor.seq, anchor.frontier);
      } catch (error) {
        return { ok: false, first_bad: { seq: anchor.seq, id: null, reason: `retention anchor: ${(error as Error).message}` } };
      }
      if (range.root() !== anchor.root) return { ok: false, first_bad: { seq: anchor.seq, id: null, reason: 'retention anchor: frontier does not match its signed root' } };
      expectedSeq = anchor.seq + 1;
      previousHash = anchor.last_hash;
      // Records at or before the cut must be gone.
      const stale = await driver.readAscending(0, 1);
      if (stale.length > 0 && stale[0].seq <= anchor.seq) return { ok: false, first_bad: { seq: stale[0].seq, id: stale[0].id, reason: `record precedes the retention anchor at seq ${anchor.seq} (re-inserted?)` } };
    }
    let count = 0;

    const checkRow = (row: AuditRow): AuditVerifyResult | null => {
      const bad = (reason: string): AuditVerifyResult => ({ ok: false, first_bad: { seq: row.seq, id: row.id, reason } });
      if (row.seq !== expectedSeq) {
        return { ok: false, first_bad: { seq: expectedSeq, id: null, reason: `record seq ${expectedSeq} is missing (deleted); the next record present is seq ${row.seq} (${row.id})` } };
      }
      let hash: string;
      try {
        hash = recordHashFromText({ id: row.id, seq: row.seq, time: row.time, prev_hash: row.prev_hash, eventText: row.event });
      } catch (error) {
        return bad(`record cannot be hashed (edited): ${(error as Error).message}`);
      }
      if (hash !== row.hash) return bad('content does not match the record hash (edited)');
      const parsed = parseEvent(row);
      if (!parsed.ok) return bad(`event is not valid JSON (edited): ${parsed.error}`);
      if (row.mac !== recordMac(key, row.hash)) return bad(`record MAC does not match (record rewritten without the key, or signed with another key)${keyHint()}`);
      if (row.prev_hash !== previousHash) {
        return bad(`prev_hash does not match the hash of the record before it (seq ${row.seq - 1}${previousId ? `, ${previousId}` : ''}): reordered or replaced`);
      }
      if ((row.decision ?? null) !== (parsed.event.decision ?? null) || (row.policy ?? null) !== (parsed.event.policy?.name ?? null)) {
        return bad('index columns (decision, policy) do not match the record (edited)');
      }
      range.appendHash(row.hash);
      const checkpoint = checkpoints.get(row.seq);
      if (checkpoint) {
        if (checkpoint.mac !== checkpointMac(key, checkpoint.tree_size, checkpoint.root)) return bad(`checkpoint at tree size ${checkpoint.tree_size}: HMAC does not match (forged checkpoint, or signed with another key)${keyHint()}`);
        if (checkpoint.root !== range.root()) return bad(`checkpoint at tree size ${checkpoint.tree_size}: Merkle root does not match the records`);
      }
      previousHash = row.hash;
      previousId = row.id;
      expectedSeq++;
      count++;
      return null;
    };

    /** Verifies every record after the last one seen; returns a failure or null. */
    const readOn = async (): Promise<AuditVerifyResult | null> => {
      for (;;) {
        const rows = await driver.readAscending(expectedSeq - 1, pageSize);
        for (const row of rows) {
          const failure = checkRow(row);
          if (failure) return failure;
        }
        if (rows.length < pageSize) return null;
      }
    };

    let failure = await readOn();
    if (failure) return failure;
    let head = await driver.readHead();
    // Appends that committed while we read: the head is ahead of what we saw. Read on (bounded).
    while (head && head.tree_size > expectedSeq - 1) {
      const seen = expectedSeq;
      failure = await readOn();
      if (failure) return failure;
      if (expectedSeq === seen) break; // nothing more to read although the head says so: records are missing
      head = await driver.readHead();
    }
    const lastSeq = expectedSeq - 1;
    const beyond = [...checkpoints.keys()].filter((size) => size > lastSeq).sort((a, b) => a - b);
    if (beyond.length > 0) {
      return { ok: false, first_bad: { seq: lastSeq + 1, id: null, reason: `records after seq ${lastSeq} are missing: a checkpoint covers tree size ${beyond[beyond.length - 1]} (removed tail)` } };
    }
    if (!head) {
      return { ok: false, first_bad: { seq: lastSeq, id: previousId, reason: 'the signed tree head is missing' } };
    }
    if (head.mac !== checkpointMac(key, head.tree_size, head.root)) {
      return { ok: false, first_bad: { seq: Math.min(head.tree_size, lastSeq), id: null, reason: `signed tree head: HMAC does not match (forged head, or signed with another key)${keyHint()}` } };
    }
    if (head.tree_size > lastSeq) {
      return { ok: false, first_bad: { seq: lastSeq + 1, id: null, reason: `records after seq ${lastSeq} are missing: the signed head covers tree size ${head.tree_size} (removed tail)` } };
    }
    if (head.tree_size < lastSeq) {
      const extra = await driver.readAscending(head.tree_size, 1);
      return { ok: false, first_bad: { seq: head.tree_size + 1, id: extra[0]?.id ?? null, reason: `record beyond the signed head (tree size ${head.tree_size}): appended without the key, or the head was rolled back` } };
    }
    const root = range.root();
    if (head.root !== root || head.last_hash !== previousHash) {
      return { ok: false, first_bad: { seq: lastSeq, id: previousId, reason: 'signed tree head does not match the records' } };
    }
    return { ok: true, records: count, head: { seq: lastSeq, id: previousId, hash: previousHash, tree_size: head.tree_size, root: lastSeq === 0 ? EMPTY_TREE_ROOT : root } };
  }

  async function prune(retentionDays: number): Promise<AuditPruneResult> {
    if (!Number.isFinite(retentionDays) || retentionDays < 0) throw new GatewayError('invalid_request', 'retention days must be a non-negative number', { param: 'retention_days' });
    const cutoff = new Date(now().getTime() - retentionDays * 86_400_000).toISOString();
    return driver.writeTransaction(async (transaction) => {
      const head = await transaction.readHead();
      const anchor = await transaction.readAnchor();
      const previousCut = anchor?.seq ?? 0;
      if (!head) throw new GatewayError('internal_error', 'audit log has no signed head; run audit verify before pruning');
      const firstKept = await transaction.firstSeqAtOrAfter(cutoff);
      const cut = Math.min(firstKept === null ? head.tree_size : firstKept - 1, head.tree_size);
      if (cut <= previousCut) return { deleted: 0, anchor_seq: previousCut };
      const hashes = await transaction.readHashes(previousCut, cut);
      if (hashes.length !== cut - previousCut) throw new GatewayError('internal_error', 'records are missing before the retention cut; run audit verify');
      const range = anchor ? CompactRange.fromFrontier(anchor.seq, anchor.frontier) : new CompactRange();
      for (const hash of hashes) range.appendHash(hash);
      const root = range.root();
      await transaction.writeAnchor({ seq: cut, last_hash: hashes[hashes.length - 1], frontier: range.frontier(), root, mac: checkpointMac(key, cut, root) });
      const deleted = await transaction.deleteRecordsUpTo(cut);
      await transaction.deleteCheckpointsBelow(cut);
      return { deleted, anchor_seq: cut };
    });
  }

  async function health(): Promise<AuditHealth> {
    try {
      await driver.ping();
      return { ok: true, store: driver.kind, mode: 'sync' };
    } catch (error) {
      return { ok: false, store: driver.kind, mode: 'sync', detail: error instanceof Error ? error.message : String(error) };
    }
  }

  async function close(): Promise<void> {
    if (closed) return;
    closed = true;
    // Appends already accepted are written before the driver closes.
    while (flushing) await flushing;
    await driver.close();
  }

  return { keyId: currentKeyId, initialize, append, list, get, prove, export: exportRecords, verify, prune, health, close };
}
