import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import { createPolicyRouter } from '../../../src/server/routes/policy-routes';
import { createPolicyStore, type PolicyStore } from '../../../src/policy/policy-store';
import { isGatewayError } from '../../../src/errors/gateway-error';
import { testRegistry } from './policy-fixtures';

let server: Server;
let base: string;
let store: PolicyStore;
let directory: string;

beforeAll(async () => {
  directory = fs.mkdtempSync(path.join(os.tmpdir(), 'rein-routes-'));
  fs.writeFileSync(path.join(directory, 'base.yaml'), 'description: base\noutput:\n  - check: pii\n    action: redact\n');
  fs.writeFileSync(path.join(directory, 'base.test.yaml'), '- name: redacts\n  output: "a@example.org"\n  expect: {sanitized_output: "[EMAIL]"}\n');
  const registry = testRegistry();
  store = createPolicyStore({ directory, registry, watch: false });
  const app = express();
  app.use(express.json());
  app.use(express.text({ type: ['application/yaml', 'text/*'] }));
  // Stand-in for the gateway's auth: the x-roles header lists the caller's roles.
  const requireRole = (role: string) => (request: Request, response: Response, next: NextFunction) => {
    const roles = String(request.headers['x-roles'] ?? '').split(',');
    if (roles.includes(role)) next();
    else response.status(403).json({ error: { code: 'forbidden' } });
  };
  app.use(createPolicyRouter({ store, registry, requireRole }));
  app.use((error: unknown, _request: Request, response: Response, _next: NextFunction) => {
    if (isGatewayError(error)) response.status(error.status).json({ error: { code: error.code, message: error.message, param: error.param, ...(error.details ?? {}) } });
    else response.status(500).json({ error: { code: 'internal_error', message: String(error) } });
  });
  server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  store.close();
  await new Promise((resolve) => server.close(resolve));
});

const read = { 'x-roles': 'policy:read' };
const write = { 'x-roles': 'policy:read,policy:write' };

describe('policy routes', () => {
  test('GET /v1/policies and /v1/policies/:name', async () => {
    const list = (await (await fetch(`${base}/v1/policies`, { headers: read })).json()) as { policies: unknown[] };
    expect(list.policies).toEqual([expect.objectContaining({ name: 'base', revision: expect.stringMatching(/^sha256:/) })]);
    const one = await fetch(`${base}/v1/policies/base`, { headers: read });
    expect(one.status).toBe(200);
    expect(await one.json()).toMatchObject({ name: 'base', policy: { output: [{ check: 'pii' }] }, source: expect.stringContaining('description: base') });
    expect((await fetch(`${base}/v1/policies/nope`, { headers: read })).status).toBe(404);
  });

  test('POST /v1/policies/validate accepts YAML and JSON; errors are 422 with pointer and line', async () => {
    const yaml = await fetch(`${base}/v1/policies/validate`, { method: 'POST', headers: { ...read, 'content-type': 'application/yaml' }, body: 'extends: base\noutput:\n  - check: secrets\n    action: redact\n' });
    expect(yaml.status).toBe(200);
    expect(await yaml.json()).toMatchObject({ valid: true, revision: expect.stringMatching(/^sha256:/) });
    const bad = await fetch(`${base}/v1/policies/validate`, { method: 'POST', headers: { ...read, 'content-type': 'application/yaml' }, body: 'output:\n  - check: pii\n    action: redact\n    entities: [shoe_size]\n' });
    expect(bad.status).toBe(422);
    expect(await bad.json()).toMatchObject({ error: { code: 'policy_invalid', errors: [{ pointer: '/output/0/entities/0', line: 4, message: expect.any(String) }] } });
    const json = await fetch(`${base}/v1/policies/validate`, { method: 'POST', headers: { ...read, 'content-type': 'application/json' }, body: JSON.stringify({ input: [{ check: 'nope', action: 'block' }] }) });
    expect(json.status).toBe(422);
    expect(((await json.json()) as { error: { errors: Array<{ pointer: string }> } }).error.errors[0].pointer).toBe('/input/0/check');
  });

  test('PUT needs policy:write, validates, stores and hot-reloads', async () => {
    const denied = await fetch(`${base}/v1/policies/team`, { method: 'PUT', headers: { ...read, 'content-type': 'application/yaml' }, body: 'extends: base\n' });
    expect(denied.status).toBe(403);
    const created = await fetch(`${base}/v1/policies/team`, { method: 'PUT', headers: { ...write, 'content-type': 'application/yaml' }, body: 'extends: base\nrefusal: Nope.\n' });
    expect(created.status).toBe(201);
    expect(store.get('team')?.refusal).toBe('Nope.');
    expect(fs.existsSync(path.join(directory, 'team.yaml'))).toBe(true);
    const invalid = await fetch(`${base}/v1/policies/team`, { method: 'PUT', headers: { ...write, 'content-type': 'application/json' }, body: JSON.stringify({ refusal: 7 }) });
    expect(invalid.status).toBe(422);
    expect(store.get('team')?.refusal).toBe('Nope.');
  });

  test('POST /v1/policies/:name/test runs given or stored cases', async () => {
    const stored = await (await fetch(`${base}/v1/policies/base/test`, { method: 'POST', headers: read })).json();
    expect(stored).toMatchObject({ policy: 'base', passed: 1, failed: 0 });
    const given = await fetch(`${base}/v1/policies/base/test`, {
      method: 'POST', headers: { ...read, 'content-type': 'application/json' },
      body: JSON.stringify({ cases: [{ name: 'wrong', output: 'a@example.org', expect: { decision: 'allow' } }] }),
    });
    expect(await given.json()).toMatchObject({ passed: 0, failed: 1, results: [{ name: 'wrong', status: 'fail', failures: [expect.stringContaining('expected allow, got redact')] }] });
    const malformed = await fetch(`${base}/v1/policies/base/test`, { method: 'POST', headers: { ...read, 'content-type': 'application/json' }, body: JSON.stringify({ cases: [{ output: 1 }] }) });
    expect(malformed.status).toBe(400);
  });
});
