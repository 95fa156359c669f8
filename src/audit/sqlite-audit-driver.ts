/**
 * SQLite AuditDriver (better-sqlite3 12), the embedded default store (`sqlite:./data/audit.sqlite`).
 *
 * Durability: WAL journal with synchronous=NORMAL. A committed append survives the gateway process
 * being killed (kill -9, crash): the commit is in the WAL file, in the OS page cache, and is
 * replayed on the next open. It does NOT survive a power loss or kernel crash that happens before
 * the next WAL checkpoint/fsync — the last transactions may roll back (the database stays consistent
 * and the chain stays verifiable; the lost tail is then caught by nothing, because the head row
 * rolls back with it). Set `synchronous: 'FULL'` (one fsync per append) when that matters.
 *
 * Writes take BEGIN IMMEDIATE (the database write lock) so several processes may share one file;
 * inside one process an async mutex keeps transactions from interleaving at await points.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { AuditAnchorRow, AuditCheckpointRow, AuditDriver, AuditHeadRow, AuditRow, AuditRowFilter, AuditWriteTransaction } from './audit-driver';
import { createFrontierCache, parseStoredFrontier } from './stored-frontier';

export interface SqliteAuditDriverOptions {
  synchronous?: 'NORMAL' | 'FULL';
  /** Milliseconds to wait for another process's write lock (default 5000). */
  busyTimeoutMs?: number;
}

function filterSql(filter: AuditRowFilter, clauses: string[], params: unknown[]): void {
  if (filter.since !== undefined) {
    clauses.push('time >= ?');
    params.push(filter.since);
  }
  if (filter.until !== undefined) {
    clauses.push('time < ?');
    params.push(filter.until);
  }
  if (filter.decision !== undefined) {
    clauses.push('decision = ?');
    params.push(filter.decision);
  }
  if (filter.policy !== undefined) {
    clauses.push('policy = ?');
    params.push(filter.policy);
  }
}

export function createSqliteAuditDriver(file: string, options: SqliteAuditDriverOptions = {}): AuditDriver {
  if (file !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${options.synchronous === 'FULL' ? 'FULL' : 'NORMAL'}`);
  db.pragma(`busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs ?? 5000))}`);
  db.exec(`
    CREATE TABLE IF NOT EXISTS audit_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS audit_records (
      seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, time TEXT NOT NULL, decision TEXT, policy TEXT,
      prev_hash TEXT NOT NULL, hash TEXT NOT NULL, mac TEXT NOT NULL, event TEXT NOT NULL);
    CREATE INDEX IF NOT EXISTS audit_records_time ON audit_records (time);
    CREATE TABLE IF NOT EXISTS audit_head (one INTEGER PRIMARY KEY CHECK (one = 1), tree_size INTEGER NOT NULL,
      last_hash TEXT NOT NULL, frontier TEXT NOT NULL, root TEXT NOT NULL, mac TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS audit_checkpoints (tree_size INTEGER PRIMARY KEY, root TEXT NOT NULL, mac TEXT NOT NULL, time TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS audit_anchor (one INTEGER PRIMARY KEY CHECK (one = 1), seq INTEGER NOT NULL,
      last_hash TEXT NOT NULL, frontier TEXT NOT NULL, root TEXT NOT NULL, mac TEXT NOT NULL);
  `);
  // Reads go through a second, read-only connection: it sees committed data only, never the rows of
  // a write transaction that is in progress on the writer connection (same process, at an await point).
  const reader = file === ':memory:' ? db : new Database(file, { readonly: true, fileMustExist: true });
  if (reader !== db) reader.pragma(`busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs ?? 5000))}`);
  const reads = (connection: Database.Database) => ({
    readHead: connection.prepare('SELECT tree_size, last_hash, frontier, root, mac FROM audit_head WHERE one = 1'),
    readAnchor: connection.prepare('SELECT seq, last_hash, frontier, root, mac FROM audit_anchor WHERE one = 1'),
    readHashes: connection.prepare('SELECT hash FROM audit_records WHERE seq > ? AND seq <= ? ORDER BY seq').pluck(),
  });
  const writerReads = reads(db);
  const readerReads = reads(reader);
  const statements = {
    getMeta: db.prepare('SELECT value FROM audit_meta WHERE name = ?'),
    putMeta: db.prepare('INSERT OR IGNORE INTO audit_meta (name, value) VALUES (?, ?)'),
    writeHead: db.prepare(
      'INSERT INTO audit_head (one, tree_size, last_hash, frontier, root, mac) VALUES (1, ?, ?, ?, ?, ?) ' +
        'ON CONFLICT (one) DO UPDATE SET tree_size = excluded.tree_size, last_hash = excluded.last_hash, frontier = excluded.frontier, root = excluded.root, mac = excluded.mac',
    ),
    insertRecord: db.prepare('INSERT INTO audit_records (seq, id, time, decision, policy, prev_hash, hash, mac, event) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)'),
    insertCheckpoint: db.prepare('INSERT INTO audit_checkpoints (tree_size, root, mac, time) VALUES (?, ?, ?, ?)'),
    readCheckpoints: reader.prepare('SELECT tree_size, root, mac, time FROM audit_checkpoints ORDER BY tree_size'),
    writeAnchor: db.prepare(
      'INSERT INTO audit_anchor (one, seq, last_hash, frontier, root, mac) VALUES (1, ?, ?, ?, ?, ?) ' +
        'ON CONFLICT (one) DO UPDATE SET seq = excluded.seq, last_hash = excluded.last_hash, frontier = excluded.frontier, root = excluded.root, mac = excluded.mac',
    ),
    firstSeqAtOrAfter: db.prepare('SELECT min(seq) FROM audit_records WHERE time >= ?').pluck(),
    countRecords: db.prepare('SELECT count(*) FROM audit_records').pluck(),
    deleteRecords: db.prepare('DELETE FROM audit_records WHERE seq <= ?'),
    deleteCheckpoints: db.prepare('DELETE FROM audit_checkpoints WHERE tree_size < ?'),
    getById: reader.prepare('SELECT * FROM audit_records WHERE id = ?'),
    ping: reader.prepare('SELECT 1').pluck(),
    // Prepared once instead of db.exec() on every transaction (which parses the SQL each time).
    begin: db.prepare('BEGIN IMMEDIATE'),
    commit: db.prepare('COMMIT'),
    rollback: db.prepare('ROLLBACK'),
  };
  const frontiers = createFrontierCache();

  type Reads = ReturnType<typeof reads>;
  const readHead = (from: Reads): AuditHeadRow | null => {
    const row = from.readHead.get() as (Omit<AuditHeadRow, 'frontier'> & { frontier: string }) | undefined;
    return row ? { tree_size: row.tree_size, last_hash: row.last_hash, frontier: frontiers.parse(row.frontier), root: row.root, mac: row.mac } : null;
  };
  const writeHead = (head: AuditHeadRow): void => {
    const frontierText = JSON.stringify(head.frontier);
    statements.writeHead.run(head.tree_size, head.last_hash, frontierText, head.root, head.mac);
    frontiers.remember(frontierText, head.frontier);
  };
  const insertRecord = (row: AuditRow): void => {
    statements.insertRecord.run(row.seq, row.id, row.time, row.decision, row.policy, row.prev_hash, row.hash, row.mac, row.event);
  };
  const insertCheckpoint = (checkpoint: AuditCheckpointRow): void => {
    statements.insertCheckpoint.run(checkpoint.tree_size, checkpoint.root, checkpoint.mac, checkpoint.time);
  };
  const readAnchor = (from: Reads): AuditAnchorRow | null => {
    const row = from.readAnchor.get() as (Omit<AuditAnchorRow, 'frontier'> & { frontier: string }) | undefined;
    return row ? { ...row, frontier: parseStoredFrontier(row.frontier) } : null;
  };
  const readHashes = (from: Reads, afterSeq: number, uptoSeq: number): string[] => from.readHashes.all(afterSeq, uptoSeq) as string[];

  const transaction: AuditWriteTransaction = {
    readHead: async () => readHead(writerReads),
    appendRecord: async (row, head, checkpoint) => {
      insertRecord(row);
      if (checkpoint) insertCheckpoint(checkpoint);
      writeHead(head);
    },
    writeHead: async (head) => writeHead(head),
    insertRecord: async (row) => insertRecord(row),
    insertCheckpoint: async (checkpoint) => insertCheckpoint(checkpoint),
    readAnchor: async () => readAnchor(writerReads),
    writeAnchor: async (anchor) => {
      statements.writeAnchor.run(anchor.seq, anchor.last_hash, JSON.stringify(anchor.frontier), anchor.root, anchor.mac);
    },
    readHashes: async (afterSeq, uptoSeq) => readHashes(writerReads, afterSeq, uptoSeq),
    firstSeqAtOrAfter: async (time) => (statements.firstSeqAtOrAfter.get(time) as number | null) ?? null,
    countRecords: async () => statements.countRecords.get() as number,
    deleteRecordsUpTo: async (seq) => statements.deleteRecords.run(seq).changes,
    deleteCheckpointsBelow: async (treeSize) => {
      statements.deleteCheckpoints.run(treeSize);
    },
  };

  // In-process mutex: better-sqlite3 is synchronous, but the transaction body is async.
  let queue: Promise<unknown> = Promise.resolve();
  let open = true;

  async function writeTransaction<T>(body: (transaction: AuditWriteTransaction) => Promise<T>): Promise<T> {
    const run = async (): Promise<T> => {
      if (!open) throw new Error('audit database is closed');
      statements.begin.run();
      try {
        const result = await body(transaction);
        statements.commit.run();
        return result;
      } catch (error) {
        if (db.inTransaction) statements.rollback.run();
        throw error;
      }
    };
    const result = queue.then(run, run);
    queue = result.catch(() => undefined);
    return result;
  }

  return {
    kind: 'sqlite',
    async putMetaIfAbsent(name, value) {
      statements.putMeta.run(name, value);
      return (statements.getMeta.get(name) as { value: string }).value;
    },
    writeTransaction,
    readHead: async () => readHead(readerReads),
    readAnchor: async () => readAnchor(readerReads),
    readCheckpoints: async () => statements.readCheckpoints.all() as AuditCheckpointRow[],
    async readAscending(afterSeq, limit, filter = {}) {
      const clauses = ['seq > ?'];
      const params: unknown[] = [afterSeq];
      filterSql(filter, clauses, params);
      params.push(limit);
      return reader.prepare(`SELECT * FROM audit_records WHERE ${clauses.join(' AND ')} ORDER BY seq ASC LIMIT ?`).all(...params) as AuditRow[];
    },
    async readDescending(beforeSeq, limit, filter) {
      const clauses: string[] = [];
      const params: unknown[] = [];
      if (beforeSeq !== null) {
        clauses.push('seq < ?');
        params.push(beforeSeq);
      }
      filterSql(filter, clauses, params);
      params.push(limit);
      const where = clauses.length > 0 ? `WHERE ${clauses.join(' AND ')}` : '';
      return reader.prepare(`SELECT * FROM audit_records ${where} ORDER BY seq DESC LIMIT ?`).all(...params) as AuditRow[];
    },
    readHashes: async (afterSeq, uptoSeq) => readHashes(readerReads, afterSeq, uptoSeq),
    getById: async (id) => (statements.getById.get(id) as AuditRow | undefined) ?? null,
    async ping() {
      statements.ping.get();
    },
    async close() {
      if (!open) return;
      open = false;
      await queue;
      if (reader !== db) reader.close();
      db.close();
    },
  };
}
