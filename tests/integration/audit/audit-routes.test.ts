/**
 * The audit read API over real HTTP (express 5 + the router + the shared error envelope) on a real
 * SQLite store: list with filters and cursor, get with inclusion proof, NDJSON export, verify 200/409,
 * query validation naming the parameter, 404, and the audit:read role.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import Database from 'better-sqlite3';
import { createAuditRouter } from '../../../src/server/routes/audit-routes';
import { createErrorHandler } from '../../../src/server/error-envelope';
import { GatewayError } from '../../../src/errors/gateway-error';
import { openAuditStore } from '../../../src/audit/open-audit-store';
import { verifyInclusionProof } from '../../../src/audit/merkle-tree';
import type { AuditStore } from '../../../src/audit/audit-store';
import { appendMany } from '../../unit/audit/audit-store-conformance';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const jsonOf = async (response: globalThis.Response): Promise<any> => response.json();
const silentLogger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined, child: () => silentLogger };

describe('audit routes', () => {
  let dir: string;
  let file: string;
  let store: AuditStore;
  let server: Server;
  let base: string;
  let ids: string[];

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rein-audit-http-'));
    file = path.join(dir, 'audit.sqlite');
    store = await openAuditStore(`sqlite:${file}`, { hmacKey: Buffer.alloc(32, 9), checkpointInterval: 5 });
    ids = (await appendMany(store, 25)).map((result) => result.id);
    const app = express();
    app.use((request: Request, response: Response, next: NextFunction) => {
      response.locals.requestId = 'test-request';
      next();
    });
    const requireRole = (role: string) => (request: Request, _response: Response, next: NextFunction) => {
      if (request.headers['x-roles'] === role) next();
      else next(new GatewayError('forbidden', `this API key lacks the '${role}' role`));
    };
    app.use(createAuditRouter({ store, requireRole }));
    app.use(createErrorHandler(silentLogger));
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const get = (pathAndQuery: string, roles = 'audit:read') => fetch(`${base}${pathAndQuery}`, { headers: { 'x-roles': roles } });

  test('without the audit:read role: 403 forbidden', async () => {
    const response = await get('/v1/audit', 'generate');
    expect(response.status).toBe(403);
    expect((await jsonOf(response)).error.code).toBe('forbidden');
  });

  test('list pages newest first through the cursor and filters by decision and policy', async () => {
    const seen: number[] = [];
    let cursor: string | null = null;
    do {
      const response: globalThis.Response = await get(`/v1/audit?limit=10${cursor ? `&cursor=${cursor}` : ''}`);
      expect(response.status).toBe(200);
      const body = (await response.json()) as { records: Array<{ seq: number }>; next_cursor: string | null };
      seen.push(...body.records.map((record) => record.seq));
      cursor = body.next_cursor;
    } while (cursor);
    expect(seen).toEqual(Array.from({ length: 25 }, (_, index) => 25 - index));
    const blocked = await jsonOf(await get('/v1/audit?decision=block&policy=strict'));
    expect(blocked.records.map((record: { event: { request_id: string } }) => record.event.request_id)).toEqual(['req_21', 'req_15', 'req_9', 'req_3']);
    const future = await jsonOf(await get('/v1/audit?since=2999-01-01T00:00:00Z'));
    expect(future).toEqual({ records: [], next_cursor: null });
  });

  test.each([
    ['/v1/audit?limit=0', 'limit'],
    ['/v1/audit?limit=abc', 'limit'],
    ['/v1/audit?limit=1001', 'limit'],
    ['/v1/audit?since=yesterday', 'since'],
    ['/v1/audit?until=2026-13-45', 'until'],
    ['/v1/audit?decision=maybe', 'decision'],
    ['/v1/audit?cursor=bm9wZQ', 'cursor'],
    ['/v1/audit?limit=1&limit=2', 'limit'],
    ['/v1/audit?colour=red', 'colour'],
    ['/v1/audit?since=2026-02-01&until=2026-01-01', 'since'],
    ['/v1/audit/export?cursor=abc', 'cursor'],
  ])('%s → 400 invalid_request naming %s', async (url, param) => {
    const response = await get(url);
    expect(response.status).toBe(400);
    const body = await jsonOf(response);
    expect(body.error).toEqual(expect.objectContaining({ code: 'invalid_request', param, request_id: 'test-request' }));
  });

  test('get one record, with an inclusion proof that verifies against the signed head', async () => {
    const response = await get(`/v1/audit/${ids[6]}?proof=1`);
    expect(response.status).toBe(200);
    const body = await jsonOf(response);
    expect(body.seq).toBe(7);
    expect(body.proof).toEqual(expect.objectContaining({ algorithm: 'rfc6962-sha256', leaf_index: 6, tree_size: 25 }));
    expect(verifyInclusionProof(Buffer.from(body.hash, 'hex'), body.proof.leaf_index, body.proof.tree_size, body.proof.audit_path, body.proof.root)).toBe(true);
    const plain = await jsonOf(await get(`/v1/audit/${ids[6]}`));
    expect(plain.proof).toBeUndefined();
  });

  test('unknown ids are 404 not_found', async () => {
    for (const id of ['aud_00000000000000000000000000000000', 'no-such-thing']) {
      const response = await get(`/v1/audit/${id}`);
      expect(response.status).toBe(404);
      expect((await jsonOf(response)).error.code).toBe('not_found');
    }
  });

  test('export streams NDJSON, oldest first, with filters', async () => {
    const response = await get('/v1/audit/export');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/application\/x-ndjson/);
    const lines = (await response.text()).trimEnd().split('\n');
    expect(lines).toHaveLength(25);
    expect(lines.map((line) => JSON.parse(line).seq)).toEqual(Array.from({ length: 25 }, (_, index) => index + 1));
    const blocked = (await (await get('/v1/audit/export?decision=block')).text()).trimEnd().split('\n');
    expect(blocked.map((line) => JSON.parse(line).event.decision)).toEqual(Array(8).fill('block'));
  });

  test('verify: 200 with the head, then 409 naming the edited record', async () => {
    const ok = await get('/v1/audit/verify');
    expect(ok.status).toBe(200);
    expect(await jsonOf(ok)).toEqual({ ok: true, records: 25, head: expect.objectContaining({ seq: 25, tree_size: 25, id: ids[24] }) });
    const db = new Database(file);
    db.exec(`UPDATE audit_records SET event = replace(event, 'answer 12', 'answer 13') WHERE seq = 12`);
    db.close();
    const bad = await get('/v1/audit/verify');
    expect(bad.status).toBe(409);
    expect(await jsonOf(bad)).toEqual({ ok: false, first_bad: { seq: 12, id: ids[11], reason: expect.stringMatching(/edited/) } });
  });
});
