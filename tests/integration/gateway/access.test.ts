/**
 * Access control over real HTTP: API keys stored as hashes, roles per route, a bound policy that only
 * `policy:write` may override, and per-key rate limits — in memory, and in Redis shared by two gateway
 * processes (the local Redis at 127.0.0.1:6379, started by .ci/run when it is down).
 */
import crypto from 'node:crypto';
import path from 'node:path';
import Redis from 'ioredis';
import { hashApiKey } from '../../../src/access/api-keys';
import { REPO_ROOT, startGateway, type GatewayProcess } from '../../helpers/gateway-process';

const POLICIES = path.join(REPO_ROOT, 'tests', 'fixtures', 'policies');
const REDIS_URL = 'redis://127.0.0.1:6379';

const userKey = `user-${crypto.randomBytes(12).toString('hex')}`;
const adminKey = `admin-${crypto.randomBytes(12).toString('hex')}`;
const auditorKey = `auditor-${crypto.randomBytes(12).toString('hex')}`;

function keysConfig(extra: Record<string, unknown> = {}) {
  return [
    { id: 'app', hash: hashApiKey(userKey), roles: ['generate', 'check'], policy: 'default', ...extra },
    { id: 'admin', hash: hashApiKey(adminKey), roles: ['generate', 'check', 'policy:read', 'policy:write', 'audit:read', 'metrics'] },
    { id: 'auditor', hash: hashApiKey(auditorKey), roles: ['audit:read'] },
  ];
}

function call(gateway: GatewayProcess, route: string, key: string | undefined, body?: unknown): Promise<Response> {
  return fetch(`${gateway.url}${route}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

describe('API keys and roles', () => {
  let gateway: GatewayProcess;
  beforeAll(async () => {
    gateway = await startGateway({ config: { policies: { dir: POLICIES, default: 'permissive' }, keys: keysConfig() } });
  });
  afterAll(async () => {
    await gateway?.stop();
  });

  test('no key or a wrong key is 401; health stays open', async () => {
    expect((await call(gateway, '/v1/generate', undefined, { prompt: 'x', max_tokens: 1 })).status).toBe(401);
    const wrong = await call(gateway, '/v1/generate', 'not-a-key-at-all', { prompt: 'x', max_tokens: 1 });
    expect(wrong.status).toBe(401);
    expect(((await wrong.json()) as any).error.code).toBe('unauthorized');
    expect((await call(gateway, '/healthz', undefined)).status).toBe(200);
  });

  test('roles gate the routes', async () => {
    expect((await call(gateway, '/v1/generate', userKey, { prompt: 'x', max_tokens: 1 })).status).toBe(200);
    expect((await call(gateway, '/v1/audit', userKey)).status).toBe(403);
    expect((await call(gateway, '/v1/audit', auditorKey)).status).toBe(200);
    expect((await call(gateway, '/v1/generate', auditorKey, { prompt: 'x', max_tokens: 1 })).status).toBe(403);
    expect((await call(gateway, '/metrics', userKey)).status).toBe(403);
    expect((await call(gateway, '/metrics', adminKey)).status).toBe(200);
  });

  test('a bound policy applies by default and cannot be overridden without policy:write', async () => {
    const bound: any = await (await call(gateway, '/v1/generate', userKey, { prompt: 'x', max_tokens: 1 })).json();
    expect(bound.policy.name).toBe('default');
    const override = await call(gateway, '/v1/generate', userKey, { prompt: 'x', max_tokens: 1, policy: 'permissive' });
    expect(override.status).toBe(403);
    expect(((await override.json()) as any).error.param).toBe('/policy');
    const admin: any = await (await call(gateway, '/v1/generate', adminKey, { prompt: 'x', max_tokens: 1, policy: 'blocker' })).json();
    expect(admin.policy.name).toBe('blocker');
  });

  test('the audit records the key id, never the key', async () => {
    const page: any = await (await call(gateway, '/v1/audit?limit=50', auditorKey)).json();
    const text = JSON.stringify(page);
    expect(text).toContain('"app"');
    expect(text).not.toContain(userKey);
  });
});

describe('rate limits', () => {
  test('in memory: requests per minute → 429 with Retry-After', async () => {
    const gateway = await startGateway({ config: { policies: { dir: POLICIES, default: 'permissive' }, keys: keysConfig({ rate_limit: { requests_per_minute: 3 } }) } });
    try {
      const statuses: number[] = [];
      let retryAfter: string | null = null;
      for (let i = 0; i < 5; i++) {
        const response = await call(gateway, '/v1/generate', userKey, { prompt: 'x', max_tokens: 1 });
        statuses.push(response.status);
        if (response.status === 429) retryAfter = response.headers.get('retry-after');
      }
      expect(statuses).toEqual([200, 200, 200, 429, 429]);
      expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    } finally {
      await gateway.stop();
    }
  });

  test('in Redis: two gateway processes share one limit', async () => {
    const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    await redis.ping();
    await redis.quit();
    const prefixEnv = { REIN_RATE_LIMIT_STORE: REDIS_URL };
    // A fresh key per run keeps earlier runs' buckets out of the way.
    const key = `shared-${crypto.randomBytes(12).toString('hex')}`;
    const keys = [{ id: `shared-${crypto.randomBytes(4).toString('hex')}`, hash: hashApiKey(key), roles: ['generate'], rate_limit: { requests_per_minute: 4 } }];
    const config = { policies: { dir: POLICIES, default: 'permissive' }, keys };
    const [first, second] = await Promise.all([startGateway({ config, env: prefixEnv }), startGateway({ config, env: prefixEnv })]);
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++) {
        const gateway = i % 2 === 0 ? first : second;
        statuses.push((await call(gateway, '/v1/generate', key, { prompt: 'x', max_tokens: 1 })).status);
      }
      expect(statuses.filter((status) => status === 200)).toHaveLength(4);
      expect(statuses.slice(4)).toEqual([429, 429]);
    } finally {
      await Promise.all([first.stop(), second.stop()]);
    }
  });

  test('tokens per minute are charged after generation', async () => {
    const gateway = await startGateway({ config: { policies: { dir: POLICIES, default: 'permissive' }, keys: keysConfig({ rate_limit: { tokens_per_minute: 30 } }) } });
    try {
      const first = await call(gateway, '/v1/generate', userKey, { prompt: 'x', max_tokens: 40 });
      expect(first.status).toBe(200);
      const second = await call(gateway, '/v1/generate', userKey, { prompt: 'x', max_tokens: 5 });
      expect(second.status).toBe(429);
      expect(((await second.json()) as any).error.message).toMatch(/token rate limit/);
    } finally {
      await gateway.stop();
    }
  });
});
