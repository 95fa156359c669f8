/**
 * The audit HMAC key (`audit.hmac_key`). When none is configured, one is generated on first start
 * into the data folder (`audit-hmac.key`, 32 random bytes as hex, mode 0600) and the log says so;
 * later starts read it back. Several replicas writing one PostgreSQL log must share a configured key
 * (otherwise each signs with its own and verify reports the other's checkpoints as forged).
 * A key file next to the database protects against edits made through the database only; against
 * someone with the data folder, configure the key from a secret store instead.
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';

export const AUDIT_KEY_FILE = 'audit-hmac.key';

export interface AuditKeyLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
}

export interface ResolveAuditKeyOptions {
  /** Configured key: a string (its UTF-8 bytes; `hex:…` or `base64:…` to give raw bytes) or bytes. */
  hmacKey?: string | Buffer;
  /** Where to keep a generated key. */
  dataDir: string;
  logger?: AuditKeyLogger;
  /** Refuse to generate (read-only tools such as `rein audit verify`): a missing key file is an error. */
  readOnly?: boolean;
}

export function decodeConfiguredKey(value: string | Buffer): Buffer {
  const key = Buffer.isBuffer(value) ? Buffer.from(value) : value.startsWith('hex:') ? Buffer.from(value.slice(4), 'hex') : value.startsWith('base64:') ? Buffer.from(value.slice(7), 'base64') : Buffer.from(value, 'utf8');
  if (key.length < 16) throw new Error('audit.hmac_key must be at least 16 bytes');
  return key;
}

export function resolveAuditKey(options: ResolveAuditKeyOptions): Buffer {
  if (options.hmacKey !== undefined && options.hmacKey !== '') return decodeConfiguredKey(options.hmacKey);
  const file = path.resolve(options.dataDir, AUDIT_KEY_FILE);
  const read = (): Buffer => {
    const stat = fs.statSync(file);
    if ((stat.mode & 0o077) !== 0) options.logger?.warn('audit HMAC key file is readable by group/others; chmod 600 it', { file });
    const text = fs.readFileSync(file, 'utf8').trim();
    if (!/^[0-9a-f]{64}$/.test(text)) throw new Error(`audit HMAC key file ${file} does not hold 64 hex digits`);
    return Buffer.from(text, 'hex');
  };
  if (fs.existsSync(file)) return read();
  if (options.readOnly) throw new Error(`no audit HMAC key: configure audit.hmac_key (REIN_AUDIT_HMAC_KEY) or provide ${file}`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  try {
    // 'wx': exclusive create, so two processes starting together agree on one key.
    fs.writeFileSync(file, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
    options.logger?.warn('generated a new audit HMAC key (no audit.hmac_key configured); back it up — verification needs it', { file });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  return read();
}
