/**
 * PostgreSQL AuditDriver: one log shared by several gateway replicas (`audit.store: postgres://…`).
 *
 * Ordering across replicas (docs/decisions/0002-audit-ordering.md): one global sequence. Each append
 * runs in a transaction that first takes `pg_advisory_xact_lock(<key of this log>)`, then reads the
 * signed head, inserts the record with seq = head + 1 and rewrites the head; the lock is released by
 * COMMIT/ROLLBACK, so a replica that dies mid-append never leaves the lock held and never leaves a
 * half-written record. The cost is that appends from all replicas are serialized (one commit at a time).
 *
 * Tables live in a schema (default `public`; `?schema=NAME` in the URL or `options.schema`), named
 * audit_*; events are stored as `text`, never `jsonb` (jsonb re-orders keys and would change the bytes
 * the hash was computed over).
 */
import { createHash } from 'node:crypto';
import { Pool, type PoolClient } from 'pg';
import type { AuditAnchorRow, AuditCheckpointRow, AuditDriver, AuditHeadRow, AuditRow, AuditRowFilter, AuditWriteTransaction } from './audit-driver';
import { createFrontierCache, parseStoredFrontier } from './stored-frontier';

export interface PostgresAuditDriverOptions {
  schema?: string;
  poolSize?: number;
  /** Milliseconds before a query is abandoned (default 10000). */
  statementTimeoutMs?: number;
  connectionTimeoutMs?: number;
}

function quoteIdentifier(name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(name)) throw new TypeError(`invalid PostgreSQL schema name '${name}'`);
  return `"${name}"`;
}

type Queryable = Pick<PoolClient, 'query'>;

function toRow(row: Record<string, unknown>): AuditRow {
  return {
    seq: Number(row.seq),
    id: String(row.id),
    time: String(row.time),
    decision: row.decision === null ? null : String(row.decision),
    policy: row.policy === null ? null : String(row.policy),
    prev_hash: String(row.prev_hash),
    hash: String(row.hash),
    mac: String(row.mac),
    event: String(row.event),
  };
}

export async function createPostgresAuditDriver(connectionString: string, options: PostgresAuditDriverOptions = {}): Promise<AuditDriver> {
  const schemaName = options.schema ?? 'public';
  const schema = quoteIdentifier(schemaName);
  const table = (name: string) => `${schema}.${name}`;
  const frontiers = createFrontierCache();
  // The advisory lock key: 64 bits derived from the schema, so two logs in one database do not serialize each other.
  const lockKey = createHash('sha256').update(`rein-audit:${schemaName}`).digest().readBigInt64BE(0).toString();
  if (!/^-?\d+$/.test(lockKey)) throw new Error('advisory lock key must be an integer');
  const pool = new Pool({
    connectionString,
    max: options.poolSize ?? 4,
    connectionTimeoutMillis: options.connectionTimeoutMs ?? 5000,
    statement_timeout: options.statementTimeoutMs ?? 10000,
  });
  pool.on('error', () => {
    // An idle client lost its connection (server restart): the pool replaces it; queries report errors themselves.
  });
  await pool.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`).catch((error: { code?: string }) => {
    if (error.code !== '23505' && error.code !== '42P06') throw error; // concurrent creation by another replica
  });
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [lockKey]);
    await client.query(`
      CREATE TABLE IF NOT EXISTS ${table('audit_meta')} (name text PRIMARY KEY, value text NOT NULL);
      CREATE TABLE IF NOT EXISTS ${table('audit_records')} (
        seq bigint PRIMARY KEY, id text NOT NULL UNIQUE, time text NOT NULL, decision text, policy text,
        prev_hash text NOT NULL, hash text NOT NULL, mac text NOT NULL, event text NOT NULL);
      CREATE INDEX IF NOT EXISTS audit_records_time ON ${table('audit_records')} (time);
      CREATE TABLE IF NOT EXISTS ${table('audit_head')} (one integer PRIMARY KEY CHECK (one = 1), tree_size bigint NOT NULL,
        last_hash text NOT NULL, frontier text NOT NULL, root text NOT NULL, mac text NOT NULL);
      CREATE TABLE IF NOT EXISTS ${table('audit_checkpoints')} (tree_size bigint PRIMARY KEY, root text NOT NULL, mac text NOT NULL, time text NOT NULL);
      CREATE TABLE IF NOT EXISTS ${table('audit_anchor')} (one integer PRIMARY KEY CHECK (one = 1), seq bigint NOT NULL,
        last_hash text NOT NULL, frontier text NOT NULL, root text NOT NULL, mac text NOT NULL);
    `);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }

  async function readHead(queryable: Queryable): Promise<AuditHeadRow | null> {
    const result = await queryable.query(`SELECT tree_size, last_hash, frontier, root, mac FROM ${table('audit_head')} WHERE one = 1`);
    const row = result.rows[0];
    return row ? { tree_size: Number(row.tree_size), last_hash: row.last_hash, frontier: frontiers.parse(row.frontier), root: row.root, mac: row.mac } : null;
  }
  async function readAnchor(queryable: Queryable): Promise<AuditAnchorRow | null> {
    const result = await queryable.query(`SELECT seq, last_hash, frontier, root, mac FROM ${table('audit_anchor')} WHERE one = 1`);
    const row = result.rows[0];
    return row ? { seq: Number(row.seq), last_hash: row.last_hash, frontier: parseStoredFrontier(row.frontier), root: row.root, mac: row.mac } : null;
  }
  async function readHashes(queryable: Queryable, afterSeq: number, uptoSeq: number): Promise<string[]> {
    const result = await queryable.query(`SELECT hash FROM ${table('audit_records')} WHERE seq > $1 AND seq <= $2 ORDER BY seq`, [afterSeq, uptoSeq]);
    return result.rows.map((row) => String(row.hash));
  }

  function transactionOn(client: PoolClient, prefetchedHead: AuditHeadRow | null | undefined): AuditWriteTransaction {
    let cachedHead = prefetchedHead;
    return {
      async readHead() {
        if (cachedHead !== undefined) {
          const head = cachedHead;
          cachedHead = undefined; // one use: later reads go to the database
          return head;
        }
        return readHead(client);
      },
      async appendRecord(row, head, checkpoint) {
        cachedHead = undefined;
        const frontierText = JSON.stringify(head.frontier);
        await client.query(
          `WITH record AS (
             INSERT INTO ${table('audit_records')} (seq, id, time, decision, policy, prev_hash, hash, mac, event) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)),
           head AS (
             UPDATE ${table('audit_head')} SET tree_size = $10, last_hash = $11, frontier = $12, root = $13, mac = $14 WHERE one = 1)
           INSERT INTO ${table('audit_checkpoints')} (tree_size, root, mac, time) SELECT $15::bigint, $16::text, $17::text, $18::text WHERE $19::boolean`,
          [
            row.seq, row.id, row.time, row.decision, row.policy, row.prev_hash, row.hash, row.mac, row.event,
            head.tree_size, head.last_hash, frontierText, head.root, head.mac,
            checkpoint?.tree_size ?? null, checkpoint?.root ?? null, checkpoint?.mac ?? null, checkpoint?.time ?? null, checkpoint !== null,
          ],
        );
        frontiers.remember(frontierText, head.frontier);
      },
      async writeHead(head) {
        const frontierText = JSON.stringify(head.frontier);
        await client.query(
          `INSERT INTO ${table('audit_head')} (one, tree_size, last_hash, frontier, root, mac) VALUES (1, $1, $2, $3, $4, $5)
           ON CONFLICT (one) DO UPDATE SET tree_size = excluded.tree_size, last_hash = excluded.last_hash, frontier = excluded.frontier, root = excluded.root, mac = excluded.mac`,
          [head.tree_size, head.last_hash, frontierText, head.root, head.mac],
        );
        frontiers.remember(frontierText, head.frontier);
      },
      async insertRecord(row) {
        await client.query(
          `INSERT INTO ${table('audit_records')} (seq, id, time, decision, policy, prev_hash, hash, mac, event) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
          [row.seq, row.id, row.time, row.decision, row.policy, row.prev_hash, row.hash, row.mac, row.event],
        );
      },
      async insertCheckpoint(checkpoint) {
        await client.query(`INSERT INTO ${table('audit_checkpoints')} (tree_size, root, mac, time) VALUES ($1, $2, $3, $4)`, [checkpoint.tree_size, checkpoint.root, checkpoint.mac, checkpoint.time]);
      },
      readAnchor: () => readAnchor(client),
      async writeAnchor(anchor) {
        await client.query(
          `INSERT INTO ${table('audit_anchor')} (one, seq, last_hash, frontier, root, mac) VALUES (1, $1, $2, $3, $4, $5)
           ON CONFLICT (one) DO UPDATE SET seq = excluded.seq, last_hash = excluded.last_hash, frontier = excluded.frontier, root = excluded.root, mac = excluded.mac`,
          [anchor.seq, anchor.last_hash, JSON.stringify(anchor.frontier), anchor.root, anchor.mac],
        );
      },
      readHashes: (afterSeq, uptoSeq) => readHashes(client, afterSeq, uptoSeq),
      async firstSeqAtOrAfter(time) {
        const result = await client.query(`SELECT min(seq) AS seq FROM ${table('audit_records')} WHERE time >= $1`, [time]);
        return result.rows[0]?.seq === null || result.rows[0]?.seq === undefined ? null : Number(result.rows[0].seq);
      },
      async countRecords() {
        const result = await client.query(`SELECT count(*) AS count FROM ${table('audit_records')}`);
        return Number(result.rows[0].count);
      },
      async deleteRecordsUpTo(seq) {
        const result = await client.query(`DELETE FROM ${table('audit_records')} WHERE seq <= $1`, [seq]);
        return result.rowCount ?? 0;
      },
      async deleteCheckpointsBelow(treeSize) {
        await client.query(`DELETE FROM ${table('audit_checkpoints')} WHERE tree_size < $1`, [treeSize]);
      },
    };
  }

  function filterSql(filter: AuditRowFilter, clauses: string[], params: unknown[]): void {
    const add = (sql: string, value: unknown) => {
      params.push(value);
      clauses.push(sql.replace('?', `$${params.length}`));
    };
    if (filter.since !== undefined) add('time >= ?', filter.since);
    if (filter.until !== undefined) add('time < ?', filter.until);
    if (filter.decision !== undefined) add('decision = ?', filter.decision);
    if (filter.policy !== undefined) add('policy = ?', filter.policy);
  }

  return {
    kind: 'postgres',
    async putMetaIfAbsent(name, value) {
      await pool.query(`INSERT INTO ${table('audit_meta')} (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`, [name, value]);
      const result = await pool.query(`SELECT value FROM ${table('audit_meta')} WHERE name = $1`, [name]);
      return String(result.rows[0].value);
    },
    async writeTransaction(body) {
      const client = await pool.connect();
      try {
        // One round trip for BEGIN, the lock and the head (simple protocol; lockKey is our own integer literal).
        const results = (await client.query(
          `BEGIN; SELECT pg_advisory_xact_lock(${lockKey}); SELECT tree_size, last_hash, frontier, root, mac FROM ${table('audit_head')} WHERE one = 1`,
        )) as unknown as Array<{ rows: Array<Record<string, unknown>> }>;
        const headRow = results[2].rows[0];
        const head = headRow
          ? { tree_size: Number(headRow.tree_size), last_hash: String(headRow.last_hash), frontier: frontiers.parse(headRow.frontier), root: String(headRow.root), mac: String(headRow.mac) }
          : null;
        const result = await body(transactionOn(client, head));
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    },
    readHead: () => readHead(pool),
    readAnchor: () => readAnchor(pool),
    async readCheckpoints() {
      const result = await pool.query(`SELECT tree_size, root, mac, time FROM ${table('audit_checkpoints')} ORDER BY tree_size`);
      return result.rows.map((row): AuditCheckpointRow => ({ tree_size: Number(row.tree_size), root: row.root, mac: row.mac, time: row.time }));
    },
    async readAscending(afterSeq, limit, filter = {}) {
      const params: unknown[] = [afterSeq];
      const clauses = ['seq > $1'];
      filterSql(filter, clauses, params);
      params.push(limit);
      const result = await pool.query(`SELECT * FROM ${table('audit_records')} WHERE ${clauses.join(' AND ')} ORDER BY seq ASC LIMIT $${params.length}`, params);
      return result.rows.map(toRow);
    },
    async readDescending(beforeSeq, limit, filter) {
      const params: unknown[] = [];
      const clauses: string[] = [];
      if (beforeSeq !== null) {
        params.push(beforeSeq);
        clauses.push(`seq < $1`);
      }
      filterSql(filter, clauses, params);
      params.push(limit);
      const where = clauses.length > 0 ? `WHERE ${clauses.join(' AND ')}` : '';
      const result = await pool.query(`SELECT * FROM ${table('audit_records')} ${where} ORDER BY seq DESC LIMIT $${params.length}`, params);
      return result.rows.map(toRow);
    },
    readHashes: (afterSeq, uptoSeq) => readHashes(pool, afterSeq, uptoSeq),
    async getById(id) {
      const result = await pool.query(`SELECT * FROM ${table('audit_records')} WHERE id = $1`, [id]);
      return result.rows[0] ? toRow(result.rows[0]) : null;
    },
    async ping() {
      await pool.query('SELECT 1');
    },
    async close() {
      await pool.end();
    },
  };
}
