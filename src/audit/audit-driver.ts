/**
 * AuditDriver: the small storage surface that createAuditLog needs from a database. The chain,
 * Merkle, signing and verification logic lives once in audit-log.ts; a driver only stores rows and
 * gives one exclusive write transaction at a time across every process sharing the log (SQLite:
 * BEGIN IMMEDIATE; PostgreSQL: pg_advisory_xact_lock — see docs/decisions/0002-audit-ordering.md).
 */

/** One record row. `event` is the canonical JSON text of the event (hashed as stored). */
export interface AuditRow {
  seq: number;
  id: string;
  time: string;
  /** Index columns copied from the event for filtering; verify checks they still match it. */
  decision: string | null;
  policy: string | null;
  prev_hash: string;
  hash: string;
  mac: string;
  event: string;
}

/** The signed tree head, rewritten on every append: a checkpoint at the current size. */
export interface AuditHeadRow {
  tree_size: number;
  last_hash: string;
  /** Compact-range hashes of the tree of tree_size leaves (largest subtree first). Not trusted: verify recomputes. */
  frontier: string[];
  root: string;
  mac: string;
}

/** A persisted checkpoint, every K records. */
export interface AuditCheckpointRow {
  tree_size: number;
  root: string;
  mac: string;
  time: string;
}

/** The retention anchor: the signed state of the tree at the prune cut (records 1..seq are gone). */
export interface AuditAnchorRow {
  seq: number;
  last_hash: string;
  frontier: string[];
  root: string;
  mac: string;
}

export interface AuditRowFilter {
  since?: string;
  until?: string;
  decision?: string;
  policy?: string;
}

export interface AuditWriteTransaction {
  readHead(): Promise<AuditHeadRow | null>;
  /** Optional fast path: insertRecord + writeHead (+ insertCheckpoint) in one round trip. */
  appendRecord?(row: AuditRow, head: AuditHeadRow, checkpoint: AuditCheckpointRow | null): Promise<void>;
  writeHead(head: AuditHeadRow): Promise<void>;
  insertRecord(row: AuditRow): Promise<void>;
  insertCheckpoint(checkpoint: AuditCheckpointRow): Promise<void>;
  readAnchor(): Promise<AuditAnchorRow | null>;
  writeAnchor(anchor: AuditAnchorRow): Promise<void>;
  /** Hashes of records afterSeq < seq <= uptoSeq, ascending. */
  readHashes(afterSeq: number, uptoSeq: number): Promise<string[]>;
  /** Smallest seq whose time is at or after `time`, or null. */
  firstSeqAtOrAfter(time: string): Promise<number | null>;
  countRecords(): Promise<number>;
  deleteRecordsUpTo(seq: number): Promise<number>;
  deleteCheckpointsBelow(treeSize: number): Promise<void>;
}

export interface AuditDriver {
  readonly kind: 'sqlite' | 'postgres';
  /** Stores `value` under `name` unless one is there; returns the stored value. */
  putMetaIfAbsent(name: string, value: string): Promise<string>;
  /** One exclusive write transaction (across processes); commits when `body` resolves, rolls back when it throws. */
  writeTransaction<T>(body: (transaction: AuditWriteTransaction) => Promise<T>): Promise<T>;
  readHead(): Promise<AuditHeadRow | null>;
  readAnchor(): Promise<AuditAnchorRow | null>;
  readCheckpoints(): Promise<AuditCheckpointRow[]>;
  /** seq > afterSeq, ascending. */
  readAscending(afterSeq: number, limit: number, filter?: AuditRowFilter): Promise<AuditRow[]>;
  /** seq < beforeSeq (null = from the newest), descending. */
  readDescending(beforeSeq: number | null, limit: number, filter: AuditRowFilter): Promise<AuditRow[]>;
  readHashes(afterSeq: number, uptoSeq: number): Promise<string[]>;
  getById(id: string): Promise<AuditRow | null>;
  ping(): Promise<void>;
  close(): Promise<void>;
}
