/**
 * Token buckets: the in-memory limiter with an injected clock, and the Redis limiter against the local
 * Redis (127.0.0.1:6379; .ci/run starts it when it is down), including two clients sharing one bucket.
 */
import crypto from 'node:crypto';
import { MemoryRateLimiter, RedisRateLimiter } from '../../../src/access/rate-limiter';

describe('MemoryRateLimiter', () => {
  test('takes up to capacity, refuses with a Retry-After, refills over a minute', async () => {
    let now = 0;
    const limiter = new MemoryRateLimiter(() => now);
    for (let i = 0; i < 3; i++) expect((await limiter.take('k', 3, 1)).allowed).toBe(true);
    const refused = await limiter.take('k', 3, 1);
    expect(refused.allowed).toBe(false);
    expect(refused.retryAfterSeconds).toBe(20);
    now += 20000;
    expect((await limiter.take('k', 3, 1)).allowed).toBe(true);
    expect((await limiter.take('other', 3, 1)).allowed).toBe(true);
  });

  test('charges can go into debt, which delays later requests', async () => {
    let now = 0;
    const limiter = new MemoryRateLimiter(() => now);
    await limiter.charge('t', 60, 120);
    expect((await limiter.take('t', 60, 0)).allowed).toBe(false);
    now += 61000;
    expect((await limiter.take('t', 60, 0)).allowed).toBe(true);
  });
});

describe('RedisRateLimiter (local Redis)', () => {
  test('two limiters share one bucket', async () => {
    const prefix = `rein:test:${crypto.randomBytes(6).toString('hex')}:`;
    const a = new RedisRateLimiter('redis://127.0.0.1:6379', prefix);
    const b = new RedisRateLimiter('redis://127.0.0.1:6379', prefix);
    try {
      expect(await a.health()).toEqual({ ok: true });
      const results = [];
      for (let i = 0; i < 6; i++) results.push((await (i % 2 ? b : a).take('key', 4, 1)).allowed);
      expect(results).toEqual([true, true, true, true, false, false]);
      const refused = await a.take('key', 4, 1);
      expect(refused.retryAfterSeconds).toBeGreaterThanOrEqual(1);
      expect(refused.retryAfterSeconds).toBeLessThanOrEqual(15);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  test('an unreachable Redis reports unhealthy and takes fail', async () => {
    const limiter = new RedisRateLimiter('redis://127.0.0.1:1', 'x:');
    try {
      expect((await limiter.health()).ok).toBe(false);
      await expect(limiter.take('k', 1, 1)).rejects.toThrow();
    } finally {
      await limiter.close();
    }
  });
});
