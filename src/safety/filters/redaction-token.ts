/**
 * Redaction tokens: `[EMAIL]` keeps redacted text readable; `redaction: hash` gives a stable keyed-hash
 * token per value (`[EMAIL:3f2a9c1b]`, HMAC-SHA256 under the configured key, first 8 hex digits) so that
 * auditors can see that two redactions hid the same value without learning it.
 *
 * The key comes from the filter's options (the gateway config) or REIN_REDACTION_KEY. Without either,
 * a random per-process key is used: tokens are then stable only until restart.
 */
import crypto from 'node:crypto';

export type RedactionStyle = 'token' | 'hash';

let processKey: Buffer | undefined;

export function defaultRedactionKey(): Buffer {
  const fromEnvironment = process.env.REIN_REDACTION_KEY;
  if (fromEnvironment) return Buffer.from(fromEnvironment, 'utf8');
  processKey ??= crypto.randomBytes(32);
  return processKey;
}

export function redactionToken(label: string, value: string, style: RedactionStyle, key: Buffer | string = defaultRedactionKey()): string {
  const name = label.toUpperCase();
  if (style === 'token') return `[${name}]`;
  const digest = crypto.createHmac('sha256', key).update(value, 'utf8').digest('hex').slice(0, 8);
  return `[${name}:${digest}]`;
}
