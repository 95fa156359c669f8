/**
 * Per-key token-bucket rate limits on requests and on tokens. In memory by default; with
 * `rate_limit.store: redis://…` the buckets live in Redis (one Lua script, atomic), so several gateway
 * replicas enforce one shared limit.
 *
 * A bucket holds up to `capacity` units and refills at `capacity` per minute. Requests take 1 unit
 * from the request bucket up front; tokens are charged after generation (and a request is refused while
 * the token bucket is empty), the usual way to bound tokens without knowing the output length in advance.
 */
import Redis from 'ioredis';

export interface RateLimitDecision {
  allowed: boolean;
  /** Seconds until one unit is available again (for Retry-After). */
  retryAfterSeconds: number;
  remaining: number;
}

export interface RateLimiter {
  /** Takes `cost` units from bucket `key` with the given per-minute capacity. cost 0 only checks. */
  take(key: string, capacityPerMinute: number, cost: number): Promise<RateLimitDecision>;
  /** Charges units without refusing (the bucket may go negative: the debt delays later requests). */
  charge(key: string, capacityPerMinute: number, cost: number): Promise<void>;
  health(): Promise<{ ok: boolean; detail?: string }>;
  close(): Promise<void>;
}

interface Bucket {
  tokens: number;
  updatedMs: number;
}

export class MemoryRateLimiter implements RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(private readonly now: () => number = Date.now) {}

  private refill(key: string, capacity: number): Bucket {
    const now = this.now();
    const bucket = this.buckets.get(key) ?? { tokens: capacity, updatedMs: now };
    const rate = capacity / 60000;
    bucket.tokens = Math.min(capacity, bucket.tokens + (now - bucket.updatedMs) * rate);
    bucket.updatedMs = now;
    this.buckets.set(key, bucket);
    if (this.buckets.size > 100000) this.evictFull(capacity);
    return bucket;
  }

  private evictFull(capacity: number): void {
    for (const [key, bucket] of this.buckets) if (bucket.tokens >= capacity) this.buckets.delete(key);
  }

  async take(key: string, capacity: number, cost: number): Promise<RateLimitDecision> {
    const bucket = this.refill(key, capacity);
    const need = Math.max(cost, 1e-9);
    if (bucket.tokens >= need) {
      bucket.tokens -= cost;
      return { allowed: true, retryAfterSeconds: 0, remaining: Math.floor(bucket.tokens) };
    }
    const waitMs = ((need - bucket.tokens) / capacity) * 60000;
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)), remaining: Math.floor(bucket.tokens) };
  }

  async charge(key: string, capacity: number, cost: number): Promise<void> {
    const bucket = this.refill(key, capacity);
    bucket.tokens -= cost;
  }

  async health(): Promise<{ ok: boolean }> {
    return { ok: true };
  }

  async close(): Promise<void> {}
}

// KEYS[1] = bucket key; ARGV = capacity, cost, mode (1 = take, 0 = charge). Uses Redis server time so
// that replicas with skewed clocks agree. Returns {allowed, tokens*1000, retry_ms}.
const TOKEN_BUCKET_SCRIPT = `
local capacity = tonumber(ARGV[1])
local cost = tonumber(ARGV[2])
local mode = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil then tokens = capacity; ts = now end
local rate = capacity / 60000
tokens = math.min(capacity, tokens + (now - ts) * rate)
local allowed = 1
local retry = 0
if mode == 1 then
  local need = cost
  if need <= 0 then need = 0.000001 end
  if tokens >= need then
    tokens = tokens - cost
  else
    allowed = 0
    retry = math.ceil((need - tokens) / rate)
  end
else
  tokens = tokens - cost
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('PEXPIRE', KEYS[1], 120000 + math.ceil(math.max(0, -tokens) / rate))
return {allowed, math.floor(tokens * 1000), retry}
`;

export class RedisRateLimiter implements RateLimiter {
  private readonly client: Redis;

  constructor(url: string, private readonly prefix = 'rein:rl:') {
    this.client = new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 2, enableOfflineQueue: true });
    this.client.defineCommand('reinTokenBucket', { numberOfKeys: 1, lua: TOKEN_BUCKET_SCRIPT });
    // Connection errors surface through health() and failed takes; keep them out of the crash path.
    this.client.on('error', () => undefined);
  }

  private async run(key: string, capacity: number, cost: number, mode: 0 | 1): Promise<[number, number, number]> {
    const command = (this.client as unknown as { reinTokenBucket(key: string, ...args: Array<string | number>): Promise<[number, number, number]> }).reinTokenBucket;
    return command.call(this.client, this.prefix + key, capacity, cost, mode);
  }

  async take(key: string, capacity: number, cost: number): Promise<RateLimitDecision> {
    const [allowed, tokensMilli, retryMs] = await this.run(key, capacity, cost, 1);
    return { allowed: allowed === 1, retryAfterSeconds: allowed === 1 ? 0 : Math.max(1, Math.ceil(retryMs / 1000)), remaining: Math.floor(tokensMilli / 1000) };
  }

  async charge(key: string, capacity: number, cost: number): Promise<void> {
    await this.run(key, capacity, cost, 0);
  }

  async health(): Promise<{ ok: boolean; detail?: string }> {
    try {
      await this.client.ping();
      return { ok: true };
    } catch (error) {
      return { ok: false, detail: (error as Error).message };
    }
  }

  async close(): Promise<void> {
    this.client.disconnect();
  }
}

export function createRateLimiter(store: string, prefix?: string): RateLimiter {
  if (store === 'memory') return new MemoryRateLimiter();
  return new RedisRateLimiter(store, prefix);
}
