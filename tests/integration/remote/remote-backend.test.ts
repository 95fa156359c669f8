/**
 * Rein in front of a remote OpenAI-compatible server, over real HTTP between processes:
 *  - a second Rein process with the embedded model plays the GPU server (Rein serves vLLM's
 *    structured_outputs, so it is a valid backend for another Rein): constraints are enforced natively
 *    there and checked again here; policies and the audit work the same;
 *  - the fault-injecting server: a stall or a 500 ends quickly in a clear 504 or 502, the audit records
 *    the failure, and /readyz reflects the open circuit.
 */
import path from 'node:path';
import { REPO_ROOT, startGateway, type GatewayProcess } from '../../helpers/gateway-process';
import { startFaultServer, type FaultServer } from '../../../tools/fixture-servers/fault-server';

const POLICIES = path.join(REPO_ROOT, 'tests', 'fixtures', 'policies');

async function post(url: string, route: string, body: unknown): Promise<{ status: number; body: any }> {
  const response = await fetch(`${url}${route}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: response.status, body: await response.json() };
}

describe('Rein in front of another Rein', () => {
  let upstream: GatewayProcess;
  let front: GatewayProcess;
  beforeAll(async () => {
    upstream = await startGateway({ config: { policies: { dir: POLICIES, default: 'permissive' } } });
    front = await startGateway({
      config: { models: [], backends: [{ id: 'gpu', url: `${upstream.url}/v1`, kind: 'rein' }], policies: { dir: POLICIES, default: 'default' } },
    });
  });
  afterAll(async () => {
    await Promise.all([front?.stop(), upstream?.stop()]);
  });

  test('models are probed from the upstream and requests are served through it', async () => {
    const models: any = await (await fetch(`${front.url}/v1/models`)).json();
    expect(models.data.map((model: { id: string }) => model.id)).toEqual(['tiny-llama']);
    expect(models.data[0].backend).toBe('http:gpu');
    const direct = await post(upstream.url, '/v1/chat/completions', { model: 'tiny-llama', messages: [{ role: 'user', content: 'Hi' }], max_tokens: 6, seed: 8 });
    const proxied = await post(front.url, '/v1/chat/completions', { model: 'tiny-llama', messages: [{ role: 'user', content: 'Hi' }], max_tokens: 6, seed: 8 });
    expect(proxied.status).toBe(200);
    expect(proxied.body.choices[0].message.content).toBe(direct.body.choices[0].message.content);
    expect(proxied.body.usage.completion_tokens).toBe(6);
    expect(proxied.body.rein.policy.name).toBe('default');
  });

  test('constraints travel natively and are checked again by the front Rein', async () => {
    const regex = await post(front.url, '/v1/generate', { model: 'tiny-llama', prompt: 'n', constraint: { type: 'regex', pattern: '[0-9]{3}-[0-9]{2}' }, seed: 2, max_tokens: 20 });
    expect(regex.status).toBe(200);
    expect(regex.body.choices[0].text).toMatch(/^[0-9]{3}-[0-9]{2}$/);
    expect(regex.body.choices[0].constraint_complete).toBe(true);
    const schema = { type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'], additionalProperties: false };
    const json = await post(front.url, '/v1/generate', { model: 'tiny-llama', prompt: 'j', constraint: { type: 'json_schema', schema }, seed: 2, max_tokens: 30 });
    expect(json.status).toBe(200);
    expect(typeof JSON.parse(json.body.choices[0].text).ok).toBe('boolean');
  });

  test('self-consistency samples use the backend n', async () => {
    const response = await post(front.url, '/v1/generate', { model: 'tiny-llama', prompt: 'The', max_tokens: 6, seed: 1, checks: { self_consistency: { samples: 3 } } });
    expect(response.status).toBe(200);
    const finding = response.body.findings.find((candidate: { check: string }) => candidate.check.startsWith('self_consistency'));
    expect(finding).toBeDefined();
    expect(finding.verdict).not.toBe('error');
  });

  test('streaming passes through', async () => {
    const response = await fetch(`${front.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'tiny-llama', messages: [{ role: 'user', content: 'Hi' }], max_tokens: 4, seed: 8, stream: true }),
    });
    const text = await response.text();
    expect(text).toContain('"chat.completion.chunk"');
    expect(text.trim().endsWith('data: [DONE]')).toBe(true);
  });
});

describe('Rein in front of a failing server', () => {
  let faults: FaultServer;
  let front: GatewayProcess;
  beforeAll(async () => {
    faults = await startFaultServer({ delayMs: 5000 });
    front = await startGateway({
      config: {
        models: [],
        backends: [
          {
            id: 'faulty',
            url: faults.url,
            kind: 'vllm',
            timeouts_ms: { connect: 1000, first_byte: 1000, between_tokens: 1000, total: 4000 },
            max_retries: 0,
            circuit: { failure_threshold: 2, reset_ms: 60000 },
          },
        ],
        policies: { dir: POLICIES, default: 'permissive' },
      },
    });
  });
  afterAll(async () => {
    await front?.stop();
    await faults?.close();
  });

  test('a stall is a quick 504, a bad constraint output never reaches the client, a 500 is a 502, and all are audited', async () => {
    const started = Date.now();
    const stall = await post(front.url, '/v1/chat/completions', { model: 'stall', messages: [{ role: 'user', content: 'x' }] });
    expect(stall.status).toBe(504);
    expect(stall.body.error.code).toBe('backend_timeout');
    expect(Date.now() - started).toBeLessThan(4000);
    const violating = await post(front.url, '/v1/generate', { model: 'bad-json', prompt: 'x', constraint: { type: 'json_object' } });
    expect(violating.status).toBe(502);
    expect(violating.body.error.message).toMatch(/violates the constraint/);
    const broken = await post(front.url, '/v1/generate', { model: 'error-500', prompt: 'x' });
    expect(broken.status).toBe(502);
    const audit: any = await (await fetch(`${front.url}/v1/audit?limit=10`)).json();
    const codes = audit.records.map((record: any) => record.event.attributes['error.type']);
    expect(codes).toEqual(expect.arrayContaining(['backend_timeout', 'backend_error']));
  });

  test('after repeated failures the circuit opens: 503 at once and /readyz says so', async () => {
    await post(front.url, '/v1/generate', { model: 'error-500', prompt: 'x' });
    const fast = await post(front.url, '/v1/generate', { model: 'ok', prompt: 'x' });
    expect(fast.status).toBe(503);
    const ready = await fetch(`${front.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(JSON.stringify(await ready.json())).toMatch(/circuit open/);
  });
});
