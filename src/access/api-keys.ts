/**
 * API keys: stored only as hashes (`sha256:<hex>` of the key; `rein keys hash` prints one), each with
 * roles and a bound policy. Keys are long random secrets, so a fast hash is the right tool (as GitHub
 * and Stripe do); lookups compare digests in constant time.
 */
import crypto from 'node:crypto';
import type { KeyConfig, Role } from '../config/config';

export interface Principal {
  /** `anonymous` when the gateway runs without keys. */
  keyId: string;
  roles: ReadonlySet<Role>;
  policy?: string;
  rateLimit?: KeyConfig['rate_limit'];
  authenticated: boolean;
}

export const ALL_ROLES: Role[] = ['generate', 'check', 'policy:read', 'policy:write', 'audit:read', 'metrics'];

export function hashApiKey(key: string): string {
  return `sha256:${crypto.createHash('sha256').update(key, 'utf8').digest('hex')}`;
}

export function generateApiKey(): string {
  return `rein_${crypto.randomBytes(24).toString('base64url')}`;
}

export class ApiKeyRegistry {
  private readonly byDigest = new Map<string, KeyConfig>();

  constructor(keys: readonly KeyConfig[]) {
    for (const key of keys) {
      if (!key.hash.startsWith('sha256:')) throw new Error(`key ${key.id}: only sha256: hashes are supported`);
      this.byDigest.set(key.hash.slice('sha256:'.length).toLowerCase(), key);
    }
  }

  get enabled(): boolean {
    return this.byDigest.size > 0;
  }

  /** The principal for a presented key, or undefined when it matches none. */
  authenticate(presented: string): Principal | undefined {
    const digest = crypto.createHash('sha256').update(presented, 'utf8').digest();
    const hex = digest.toString('hex');
    const key = this.byDigest.get(hex);
    // The Map lookup is on the digest of a high-entropy secret, which leaks nothing useful by timing;
    // confirm with a constant-time comparison anyway.
    if (!key || !crypto.timingSafeEqual(Buffer.from(key.hash.slice(7).toLowerCase(), 'hex'), digest)) return undefined;
    return { keyId: key.id, roles: new Set(key.roles), policy: key.policy, rateLimit: key.rate_limit, authenticated: true };
  }
}

const ANONYMOUS: Principal = Object.freeze({ keyId: 'anonymous', roles: new Set(ALL_ROLES), authenticated: false });

/** The caller when no keys are configured: every role (the server then listens on loopback only). */
export function anonymousPrincipal(): Principal {
  return ANONYMOUS;
}
