/**
 * openAuditStore(url, options): the audit store named by a URL, ready to use.
 *   sqlite:PATH          embedded SQLite file (default sqlite:./data/audit.sqlite); `sqlite::memory:` for throwaway use
 *   postgres://…         PostgreSQL; `?schema=NAME` (or options.schema) picks the schema holding the audit_* tables
 * Resolves the HMAC key (configured, or generated into the data folder — see audit-key.ts), creates the
 * tables and the signed head, and wraps the store for the durability mode (see with-audit-durability.ts).
 */
import path from 'node:path';
import { createAuditLog, DEFAULT_CHECKPOINT_INTERVAL } from './audit-log';
import { resolveAuditKey, type AuditKeyLogger } from './audit-key';
import { withAuditDurability, type AuditDropSink } from './with-audit-durability';
import { createSqliteAuditDriver } from './sqlite-audit-driver';
import { createPostgresAuditDriver } from './postgres-audit-driver';
import type { AuditDriver } from './audit-driver';
import type { AuditStore } from './audit-store';

export const DEFAULT_AUDIT_STORE_URL = 'sqlite:./data/audit.sqlite';

export interface OpenAuditStoreOptions {
  /** audit.hmac_key. */
  hmacKey?: string | Buffer;
  /** Where a generated key lives. Default: the SQLite file's folder, else ./data. */
  dataDir?: string;
  /** audit.mode (default sync). */
  mode?: 'sync' | 'async';
  /** audit.fail_mode (default closed). */
  failMode?: 'closed' | 'open';
  /** Async queue bound (default 10000). */
  queueSize?: number;
  /** rein_audit_dropped_total, or a callback. */
  dropped?: AuditDropSink;
  /** Checkpoint every K records (default 1000). */
  checkpointInterval?: number;
  /** PostgreSQL schema (overrides ?schema= in the URL). */
  schema?: string;
  /** SQLite synchronous pragma (default NORMAL; FULL fsyncs every commit). */
  sqliteSynchronous?: 'NORMAL' | 'FULL';
  /** Do not generate a key (read-only tools). */
  readOnlyKey?: boolean;
  logger?: AuditKeyLogger & { error(message: string, fields?: Record<string, unknown>): void };
  now?: () => Date;
}

export interface ParsedAuditStoreUrl {
  kind: 'sqlite' | 'postgres';
  /** SQLite file, or the PostgreSQL connection string without `schema`. */
  target: string;
  schema?: string;
}

export function parseAuditStoreUrl(url: string): ParsedAuditStoreUrl {
  if (url.startsWith('sqlite:')) {
    const file = url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (file.length === 0) throw new Error(`audit store URL '${url}' names no file`);
    return { kind: 'sqlite', target: file };
  }
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    const parsed = new URL(url);
    const schema = parsed.searchParams.get('schema') ?? undefined;
    parsed.searchParams.delete('schema');
    return { kind: 'postgres', target: parsed.toString(), schema };
  }
  throw new Error(`audit store URL must start with sqlite: or postgres:// (got '${url.replace(/:\/\/[^@]*@/, '://***@')}')`);
}

export async function openAuditStore(url: string = DEFAULT_AUDIT_STORE_URL, options: OpenAuditStoreOptions = {}): Promise<AuditStore> {
  const parsed = parseAuditStoreUrl(url);
  const dataDir = options.dataDir ?? (parsed.kind === 'sqlite' && parsed.target !== ':memory:' ? path.dirname(path.resolve(parsed.target)) : path.resolve('data'));
  const key = resolveAuditKey({ hmacKey: options.hmacKey, dataDir, logger: options.logger, readOnly: options.readOnlyKey });
  let driver: AuditDriver;
  if (parsed.kind === 'sqlite') driver = createSqliteAuditDriver(parsed.target, { synchronous: options.sqliteSynchronous });
  else driver = await createPostgresAuditDriver(parsed.target, { schema: options.schema ?? parsed.schema });
  const log = createAuditLog(driver, { key, checkpointInterval: options.checkpointInterval ?? DEFAULT_CHECKPOINT_INTERVAL, now: options.now });
  try {
    await log.initialize();
  } catch (error) {
    await log.close().catch(() => undefined);
    throw error;
  }
  return withAuditDurability(log, { mode: options.mode, failMode: options.failMode, queueSize: options.queueSize, dropped: options.dropped, logger: options.logger });
}
