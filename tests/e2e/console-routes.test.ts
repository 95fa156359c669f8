/**
 * The console's server side over real HTTP (no browser needed): the built page and its assets under
 * /console with helmet's CSP, the SPA fallback and 404s, and POST /console/api/constraint/check —
 * compile errors with their location, no generation and no audit record.
 */
import path from 'node:path';
import { REPO_ROOT, startGateway, type GatewayProcess } from '../helpers/gateway-process';
import { ensureConsoleBuilt } from './console-build';


describe('console routes', () => {
  jest.setTimeout(120_000);
  let gateway: GatewayProcess;

  const check = async (constraint: unknown) => {
    const response = await fetch(`${gateway.url}/console/api/constraint/check`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ constraint }),
    });
    return { status: response.status, body: (await response.json()) as Record<string, any> };
  };

  beforeAll(async () => {
    await ensureConsoleBuilt();
    gateway = await startGateway();
  });

  afterAll(async () => {
    await gateway?.stop();
  });

  test('serves the built page, its hashed assets, and the page for app routes; 404 for missing files', async () => {
    const redirect = await fetch(`${gateway.url}/console`, { redirect: 'manual' });
    expect(redirect.status).toBe(301);
    expect(redirect.headers.get('location')).toBe('/console/');

    const page = await fetch(`${gateway.url}/console/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    const html = await page.text();
    const script = /src="(\/console\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    const style = /href="(\/console\/assets\/[^"]+\.css)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    expect(style).toBeDefined();
    const asset = await fetch(`${gateway.url}${script}`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toContain('javascript');
    expect(asset.headers.get('cache-control')).toContain('immutable');
    expect((await fetch(`${gateway.url}${style}`)).headers.get('content-type')).toContain('text/css');

    const deepLink = await fetch(`${gateway.url}/console/policies`, { headers: { Accept: 'text/html' } });
    expect(deepLink.status).toBe(200);
    expect(await deepLink.text()).toBe(html);

    // Only index.html and assets/ are served: nothing else that lands in dist/console.
    expect((await fetch(`${gateway.url}/console/src/shared/line-diff.js`)).status).toBe(404);
    const missing = await fetch(`${gateway.url}/console/assets/nothing-here.js`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('not_found');
  });

  test('constraint check: valid constraints compile; errors carry their location; nothing is audited', async () => {
    const before = ((await (await fetch(`${gateway.url}/v1/audit/verify`)).json()) as { records: number }).records;

    const schema = await check({ type: 'json_schema', schema: { type: 'object', properties: { a: { type: 'integer' } }, required: ['a'] } });
    expect(schema).toEqual({ status: 200, body: { ok: true } });
    expect((await check({ type: 'choice', choices: ['yes', 'no'] })).body.ok).toBe(true);
    expect((await check({ type: 'grammar', name: 'json' })).body.ok).toBe(true);

    const grammar = await check({ type: 'grammar', grammar: 'root ::= "a" item\nitem ::= [z-a]' });
    expect(grammar.status).toBe(200);
    expect(grammar.body.ok).toBe(false);
    expect(grammar.body.error).toMatchObject({ code: 'constraint_invalid', line: 2 });
    expect(typeof grammar.body.error.column).toBe('number');

    const regex = await check({ type: 'regex', pattern: 'a(b' });
    expect(regex.body.error).toMatchObject({ code: 'constraint_invalid', line: 1, column: expect.any(Number) });
    const lookaround = await check({ type: 'regex', pattern: '(?=a)a' });
    expect(lookaround.body.error.code).toBe('constraint_unsupported');

    const badSchema = await check({ type: 'json_schema', schema: { type: 'objct' } });
    expect(badSchema.body.error).toMatchObject({ code: 'constraint_invalid', pointer: '/type' });

    const unknownName = await check({ type: 'grammar', name: '../etc/passwd' });
    expect(unknownName.body.ok).toBe(false);

    const after = ((await (await fetch(`${gateway.url}/v1/audit/verify`)).json()) as { records: number }).records;
    expect(after).toBe(before);
  });

  test('constraint check refuses malformed and oversized requests; unknown console API paths are 404', async () => {
    expect((await check(undefined)).status).toBe(400);
    expect((await check({ type: 'sql' })).body.error.code).toBe('invalid_request');
    const huge = await check({ type: 'choice', choices: Array.from({ length: 2000 }, (_, index) => `choice-${index}-${'x'.repeat(40)}`) });
    expect(huge.status).toBe(413);
    const unknown = await fetch(`${gateway.url}/console/api/nothing`, { method: 'POST' });
    expect(unknown.status).toBe(404);
  });
});
