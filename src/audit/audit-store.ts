/**
 * AuditStore: the one interface the gateway writes audit events through and auditors read them from.
 * Implementations: SQLite (embedded default) and PostgreSQL (several replicas, one log) — both built
 * by createAuditLog over an AuditDriver; `openAuditStore(url, options)` picks one from the URL, and
 * wraps it for `mode: async` when asked.
 */
import { randomUUID } from 'node:crypto';
import type { AuditEvent } from './audit-event';
import type { Decision } from '../safety/finding';

/** A stored record: the event plus its place in the chain. */
export interface AuditRecord {
  id: string;
  seq: number;
  /** When the record was appended (ISO 8601, UTC). */
  time: string;
  prev_hash: string;
  hash: string;
  /** HMAC-SHA256(key, hash). */
  mac: string;
  event: AuditEvent;
}

export interface AuditFilter {
  /** ISO 8601; records appended at or after. */
  since?: string;
  /** ISO 8601; records appended before. */
  until?: string;
  decision?: Decision;
  policy?: string;
  /** 1..1000 (list only; default 100). */
  limit?: number;
  /** Opaque, from a previous page's next_cursor. */
  cursor?: string;
}

export interface AuditPage {
  /** Newest first. */
  records: AuditRecord[];
  next_cursor: string | null;
}

export interface AuditHead {
  seq: number;
  id: string | null;
  hash: string;
  tree_size: number;
  root: string;
}

export type AuditVerifyResult =
  | { ok: true; records: number; head: AuditHead }
  | { ok: false; first_bad: { seq: number; id: string | null; reason: string } };

/** RFC 6962 inclusion proof of one record against a signed tree head. */
export interface AuditInclusionProof {
  algorithm: 'rfc6962-sha256';
  /** 0-based: seq - 1. */
  leaf_index: number;
  /** The leaf's data: the record's chain hash. */
  leaf_data: string;
  tree_size: number;
  root: string;
  /** HMAC-SHA256 over (tree_size, root) with the audit key. */
  checkpoint_mac: string;
  key_id: string;
  /** Sibling hashes, leaf to root. */
  audit_path: string[];
}

export interface AuditHealth {
  ok: boolean;
  store: 'sqlite' | 'postgres';
  mode: 'sync' | 'async';
  detail?: string;
  /** Async mode: records waiting to be written. */
  queued?: number;
}

export interface AuditAppendResult {
  /** null when the record is known to be lost (fail_mode open after a store error; async queue full). */
  id: string | null;
  /** null in async mode: the record is queued, its sequence number is not known yet. */
  seq: number | null;
}

export interface AuditAppendOptions {
  /** A record id from newAuditId(), when the caller needs it before the write (async mode). */
  id?: string;
}

export const AUDIT_ID_PATTERN = /^aud_[0-9a-f]{32}$/;

/**
 * `aud_` + 32 hex digits: the creation time in milliseconds (12 digits, as UUIDv7 leads with it) and
 * 80 random bits. Ids made later sort later, so the stores' unique index on id grows at its right
 * edge like the seq and time indexes do: an append touches the same few index pages as the one
 * before it instead of a random page of a large index (fewer pages per commit, and an index that
 * stays in cache however long the log grows). The random part keeps ids unguessable.
 */
export function newAuditId(now = Date.now()): string {
  const uuid = randomUUID(); // 8-4-4-4-12 hex; taken: 20 digits, skipping the dashes, the version digit (index 14) and the variant digit (index 19)
  return `aud_${Math.max(0, Math.floor(now)).toString(16).padStart(12, '0').slice(-12)}${uuid.slice(0, 8)}${uuid.slice(9, 13)}${uuid.slice(20, 23)}${uuid.slice(24, 29)}`;
}

export interface AuditPruneResult {
  /** Records deleted by this call. */
  deleted: number;
  /** seq of the last pruned record (the retention anchor), 0 when nothing was ever pruned. */
  anchor_seq: number;
}

export interface AuditStore {
  /** Resolves once the record is committed (sync mode) or queued (async mode). Rejects with GatewayError('unavailable') under fail_mode closed. */
  append(event: AuditEvent, options?: AuditAppendOptions): Promise<AuditAppendResult>;
  list(filter: AuditFilter): Promise<AuditPage>;
  get(id: string): Promise<AuditRecord | null>;
  /** Inclusion proof of record `id` against the latest signed tree head; null when unknown. */
  prove(id: string): Promise<AuditInclusionProof | null>;
  /** Oldest first, streamed in pages (never the whole log in memory). `limit`/`cursor` are ignored. */
  export(filter: AuditFilter): AsyncIterable<AuditRecord>;
  verify(): Promise<AuditVerifyResult>;
  prune(retentionDays: number): Promise<AuditPruneResult>;
  health(): Promise<AuditHealth>;
  close(): Promise<void>;
}
