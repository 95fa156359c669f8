/**
 * Random hex strings for identifiers that must be unique but are not secrets (request ids): drawn
 * from a pooled buffer refilled 4 KiB at a time, so an id costs a slice instead of a system call.
 */
import crypto from 'node:crypto';

const POOL_BYTES = 4096;
let pool = Buffer.alloc(0);
let offset = 0;

export function randomHex(bytes: number): string {
  if (!Number.isInteger(bytes) || bytes < 1 || bytes > POOL_BYTES) throw new RangeError('randomHex: bytes must be an integer in 1..4096');
  if (offset + bytes > pool.length) {
    pool = crypto.randomBytes(POOL_BYTES);
    offset = 0;
  }
  const text = pool.toString('hex', offset, offset + bytes);
  offset += bytes;
  return text;
}
