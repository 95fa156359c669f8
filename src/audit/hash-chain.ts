/**
 * The audit hash chain: each record's hash is SHA-256 over the canonical JSON of
 * `{v, id, seq, time, prev_hash, event}`, so it covers its position (seq), its predecessor (prev_hash)
 * and its content. Each record also carries `mac` = HMAC-SHA256(key, hash): without the key, an
 * edited record cannot be re-hashed into a chain that still verifies, and `verify` can name exactly
 * the edited record instead of only "something after checkpoint N changed".
 * Checkpoints sign (tree size, Merkle root) with the same key (see checkpointMac).
 */
import crypto, { createHash, createHmac } from 'node:crypto';
import { canonicalJson } from './canonical-json';

// crypto.hash (Node >= 20.12): a one-shot digest, cheaper than createHash().update().digest() (no Hash object).
const oneShot = (crypto as unknown as { hash?: (algorithm: string, data: string, encoding: 'hex') => string }).hash;

/** SHA-256 of the UTF-8 bytes of `text`, as hex. */
export const sha256Hex: (text: string) => string = oneShot
  ? (text) => oneShot('sha256', text, 'hex')
  : (text) => createHash('sha256').update(text, 'utf8').digest('hex');

export const CHAIN_VERSION = 1;
/** prev_hash of the first record. */
export const GENESIS_HASH = '0'.repeat(64);

export interface ChainedFields {
  id: string;
  seq: number;
  time: string;
  prev_hash: string;
  /** The event object (already JSON-safe). */
  event: unknown;
}

export function recordHash(fields: ChainedFields): string {
  return sha256Hex(canonicalJson({ v: CHAIN_VERSION, id: fields.id, seq: fields.seq, time: fields.time, prev_hash: fields.prev_hash, event: fields.event }));
}

/**
 * The same hash from the event's stored canonical text, without re-encoding it: the wrapper's keys
 * in sorted order are event, id, prev_hash, seq, time, v. Equal to recordHash() exactly when
 * `eventText` is canonicalJson(event) — which is how records are stored, so a stored text that is not
 * canonical (even re-spaced) counts as edited.
 */
export function recordHashFromText(fields: Omit<ChainedFields, 'event'> & { eventText: string }): string {
  if (!Number.isSafeInteger(fields.seq)) throw new TypeError('seq must be a safe integer');
  const body =
    `{"event":${fields.eventText},"id":${JSON.stringify(fields.id)},"prev_hash":${JSON.stringify(fields.prev_hash)},` +
    `"seq":${JSON.stringify(fields.seq)},"time":${JSON.stringify(fields.time)},"v":${CHAIN_VERSION}}`;
  return sha256Hex(body);
}

export function recordMac(key: Buffer, hash: string): string {
  return createHmac('sha256', key).update(`rein-audit-record:v1:${hash}`, 'utf8').digest('hex');
}

/** HMAC over (tree size, root): what makes a checkpoint unforgeable without the key. */
export function checkpointMac(key: Buffer, treeSize: number, root: string): string {
  return createHmac('sha256', key).update(`rein-audit-checkpoint:v1:${treeSize}:${root}`, 'utf8').digest('hex');
}

/** A short public identifier of the key (never the key): tells "signed with another key" apart from tampering. */
export function keyId(key: Buffer): string {
  return createHash('sha256').update('rein-audit-key-id:').update(key).digest('hex').slice(0, 16);
}
