/**
 * The lean request path (src/server/lean-path.ts) answers the generation endpoints without Express;
 * everything it declines goes to Express. These tests hold the two paths to the same behaviour over
 * real HTTP: the same security headers, the same error envelope for bad bodies, limits, compressed and
 * non-UTF-8 bodies handed to Express, and query strings.
 */
import http from 'node:http';
import path from 'node:path';
import zlib from 'node:zlib';
import { REPO_ROOT, startGateway, type GatewayProcess } from '../../helpers/gateway-process';

const POLICIES = path.join(REPO_ROOT, 'tests', 'fixtures', 'policies');
const BODY_LIMIT = 4096;
const CHAT = { model: 'tiny-llama', messages: [{ role: 'user', content: 'Hello' }], max_tokens: 3, seed: 1 };

interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** Plain node:http so that headers, chunked bodies and encodings are exactly what the test says. */
function raw(gateway: GatewayProcess, method: string, route: string, headers: Record<string, string>, body?: Buffer | string, chunked = false): Promise<RawResponse> {
  const url = new URL(route, gateway.url);
  return new Promise((resolve, reject) => {
    const request = http.request({ host: url.hostname, port: url.port, path: url.pathname + url.search, method, headers, agent: false }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks).toString('utf8') }));
      response.on('error', reject);
    });
    request.on('error', reject);
    if (body !== undefined && chunked) {
      // Several writes without a content-length: node sends Transfer-Encoding: chunked.
      const buffer = Buffer.from(body);
      for (let offset = 0; offset < buffer.length; offset += 1000) request.write(buffer.subarray(offset, offset + 1000));
      request.end();
    } else {
      request.end(body);
    }
  });
}

const json = { 'content-type': 'application/json' };
const SECURITY_HEADERS = [
  'content-security-policy',
  'cross-origin-opener-policy',
  'cross-origin-resource-policy',
  'origin-agent-cluster',
  'referrer-policy',
  'strict-transport-security',
  'x-content-type-options',
  'x-dns-prefetch-control',
  'x-download-options',
  'x-frame-options',
  'x-permitted-cross-domain-policies',
  'x-xss-protection',
];

describe('lean request path vs Express', () => {
  let gateway: GatewayProcess;

  beforeAll(async () => {
    gateway = await startGateway({ config: { policies: { dir: POLICIES, default: 'permissive' }, server: { body_limit_bytes: BODY_LIMIT } } });
  });
  afterAll(async () => {
    await gateway?.stop();
  });

  test('a generation answered by the lean path carries the same security headers as an Express route', async () => {
    const lean = await raw(gateway, 'POST', '/v1/chat/completions', json, JSON.stringify(CHAT));
    const express = await raw(gateway, 'GET', '/v1/models', {});
    expect(lean.status).toBe(200);
    expect(express.status).toBe(200);
    for (const name of SECURITY_HEADERS) {
      expect(express.headers[name]).toBeDefined();
      expect({ name, value: lean.headers[name] }).toEqual({ name, value: express.headers[name] });
    }
    expect(lean.headers['x-powered-by']).toBeUndefined();
    expect(lean.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(lean.headers['x-request-id']).toMatch(/^[0-9a-f]{24}$/);
    expect(JSON.parse(lean.body).id).toBe(`chatcmpl-${lean.headers['x-request-id']}`);
  });

  test('a caller-supplied request id is kept; a malformed one is replaced', async () => {
    const kept = await raw(gateway, 'POST', '/v1/chat/completions', { ...json, 'x-request-id': 'trace-42.a_b' }, JSON.stringify(CHAT));
    expect(kept.headers['x-request-id']).toBe('trace-42.a_b');
    const replaced = await raw(gateway, 'POST', '/v1/chat/completions', { ...json, 'x-request-id': 'bad id with spaces' }, JSON.stringify(CHAT));
    expect(replaced.headers['x-request-id']).toMatch(/^[0-9a-f]{24}$/);
  });

  test('invalid JSON gets the same envelope from the lean path and from Express', async () => {
    const lean = await raw(gateway, 'POST', '/v1/chat/completions', json, '{"model": ');
    // application/vnd.api+json is JSON to Express's parser but not taken by the lean path.
    const express = await raw(gateway, 'POST', '/v1/chat/completions', { 'content-type': 'application/vnd.api+json' }, '{"model": ');
    expect(lean.status).toBe(400);
    expect(express.status).toBe(400);
    const [leanError, expressError] = [JSON.parse(lean.body).error, JSON.parse(express.body).error];
    expect(leanError).toEqual(expect.objectContaining({ code: 'invalid_request', param: '' }));
    expect({ ...leanError, request_id: undefined }).toEqual({ ...expressError, request_id: undefined });
  });

  test('an empty body and a body that is not an object fail validation naming the field, as under Express', async () => {
    const empty = await raw(gateway, 'POST', '/v1/chat/completions', { ...json, 'content-length': '0' }, '');
    expect(empty.status).toBe(400);
    expect(JSON.parse(empty.body).error).toEqual(expect.objectContaining({ code: 'invalid_request', param: '/model' }));
    const list = await raw(gateway, 'POST', '/v1/generate', json, '[1, 2]');
    const listViaExpress = await raw(gateway, 'POST', '/v1/generate', { 'content-type': 'application/vnd.api+json' }, '[1, 2]');
    expect(list.status).toBe(400);
    expect({ ...JSON.parse(list.body).error, request_id: undefined }).toEqual({ ...JSON.parse(listViaExpress.body).error, request_id: undefined });
  });

  test('bodies over the limit are refused with 413 whether declared or streamed, and a client still sending one gets the answer', async () => {
    const big = JSON.stringify({ ...CHAT, messages: [{ role: 'user', content: 'x'.repeat(BODY_LIMIT) }] });
    const declared = await raw(gateway, 'POST', '/v1/chat/completions', json, big);
    expect(declared.status).toBe(413);
    expect(JSON.parse(declared.body).error).toEqual(expect.objectContaining({ code: 'payload_too_large', param: '' }));
    const streamed = await raw(gateway, 'POST', '/v1/chat/completions', json, big, true);
    expect(streamed.status).toBe(413);
    expect(JSON.parse(streamed.body).error.code).toBe('payload_too_large');
    // A 2 MiB body is still being written when the gateway knows it is too large: the gateway reads it
    // to the end before answering, so the client gets its 413 instead of a reset connection (EPIPE).
    const large = JSON.stringify({ ...CHAT, messages: [{ role: 'user', content: 'x'.repeat(2 * 1024 * 1024) }] });
    for (let attempt = 0; attempt < 3; attempt++) {
      expect((await raw(gateway, 'POST', '/v1/chat/completions', json, large)).status).toBe(413);
      expect((await raw(gateway, 'POST', '/v1/chat/completions', json, large, true)).status).toBe(413);
    }
    // Declared beyond 8 MiB past the limit: answered at once, and the connection closes after it.
    const huge = await raw(gateway, 'POST', '/v1/chat/completions', { ...json, 'content-length': String(BODY_LIMIT + 8 * 1024 * 1024 + 1) }, '{}');
    expect(huge.status).toBe(413);
    expect(huge.headers.connection).toBe('close');
    // The gateway still serves afterwards.
    expect((await raw(gateway, 'POST', '/v1/chat/completions', json, JSON.stringify(CHAT))).status).toBe(200);
  });

  test('a chunked body within the limit is read whole', async () => {
    // JSON whitespace pads the body to three chunks without lengthening the prompt.
    const padded = `${' '.repeat(1200)}${JSON.stringify(CHAT)}${' '.repeat(1300)}`;
    const response = await raw(gateway, 'POST', '/v1/chat/completions', json, padded, true);
    expect(response.status).toBe(200);
    expect(JSON.parse(response.body).object).toBe('chat.completion');
  });

  test('gzip bodies, explicit UTF-8 charsets and query strings are served; other charsets are refused as under Express', async () => {
    const gzipped = await raw(gateway, 'POST', '/v1/chat/completions', { ...json, 'content-encoding': 'gzip' }, zlib.gzipSync(JSON.stringify(CHAT)));
    expect(gzipped.status).toBe(200);
    const utf8 = await raw(gateway, 'POST', '/v1/chat/completions?trace=1', { 'content-type': 'application/json; charset="UTF-8"' }, JSON.stringify(CHAT));
    expect(utf8.status).toBe(200);
    const latin1 = await raw(gateway, 'POST', '/v1/chat/completions', { 'content-type': 'application/json; charset=latin1' }, JSON.stringify(CHAT));
    expect(latin1.status).toBeGreaterThanOrEqual(400);
    expect(latin1.status).toBeLessThan(500);
    expect(JSON.parse(latin1.body).error.request_id).toBe(latin1.headers['x-request-id']);
  });

  test('the lean path and Express count requests in the same metrics', async () => {
    await raw(gateway, 'POST', '/v1/completions', json, JSON.stringify({ model: 'tiny-llama', prompt: 'Hi', max_tokens: 2 }));
    const metrics = await raw(gateway, 'GET', '/metrics', {});
    expect(metrics.body).toMatch(/rein_http_requests_total\{route="\/v1\/completions",status="200"\} [1-9]/);
    expect(metrics.body).toMatch(/rein_http_requests_total\{route="\/v1\/chat\/completions",status="413"\} [1-9]/);
  });
});
