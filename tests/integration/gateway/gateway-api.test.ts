/**
 * The gateway as a user meets it: a real `rein serve` process, real HTTP, the embedded ONNX runtime.
 * The OpenAI SDK drives the chat-completions API unchanged (non-streaming, streaming, errors); the
 * native API, error envelope, health, metrics and shutdown are checked over plain fetch.
 */
import path from 'node:path';
import OpenAI from 'openai';
import { REPO_ROOT, readSse, startGateway, type GatewayProcess } from '../../helpers/gateway-process';

const POLICIES = path.join(REPO_ROOT, 'tests', 'fixtures', 'policies');

async function post(gateway: GatewayProcess, route: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${gateway.url}${route}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

describe('gateway over HTTP (tiny fixture model)', () => {
  let gateway: GatewayProcess;
  let client: OpenAI;

  beforeAll(async () => {
    gateway = await startGateway({ config: { policies: { dir: POLICIES, default: 'default' } } });
    client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  });
  afterAll(async () => {
    await gateway?.stop();
  });

  test('OpenAI SDK: chat completion with usage and the rein object', async () => {
    const completion = await client.chat.completions.create({ model: 'tiny-llama', messages: [{ role: 'user', content: 'Hello' }], max_tokens: 6, seed: 11, temperature: 0.7 });
    expect(completion.object).toBe('chat.completion');
    expect(completion.choices).toHaveLength(1);
    expect(typeof completion.choices[0].message.content).toBe('string');
    expect(completion.choices[0].finish_reason).toBe('length');
    expect(completion.usage?.completion_tokens).toBe(6);
    expect(completion.usage!.prompt_tokens).toBeGreaterThan(0);
    const rein = (completion as unknown as { rein: Record<string, any> }).rein;
    expect(rein.decision).toBe('allow');
    expect(rein.seed).toBe(11);
    expect(rein.policy.revision).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(rein.audit_id).toMatch(/^aud_/);
  });

  test('OpenAI SDK: the same seed gives the same text; another seed may not', async () => {
    const ask = (seed: number) => client.chat.completions.create({ model: 'tiny-llama', messages: [{ role: 'user', content: 'Hi' }], max_tokens: 8, seed, temperature: 1 });
    const [a, b] = [await ask(5), await ask(5)];
    expect(a.choices[0].message.content).toBe(b.choices[0].message.content);
  });

  test('OpenAI SDK: streaming chunks end with the rein object and [DONE]', async () => {
    const stream = await client.chat.completions.create({ model: 'tiny-llama', messages: [{ role: 'user', content: 'Hello' }], max_tokens: 5, seed: 3, stream: true, stream_options: { include_usage: true } });
    let text = '';
    let finish: string | null | undefined;
    let usage: unknown;
    let rein: any;
    for await (const chunk of stream) {
      for (const choice of chunk.choices) {
        text += choice.delta?.content ?? '';
        if (choice.finish_reason) finish = choice.finish_reason;
      }
      if (chunk.usage) usage = chunk.usage;
      if ((chunk as any).rein) rein = (chunk as any).rein;
    }
    const whole = await client.chat.completions.create({ model: 'tiny-llama', messages: [{ role: 'user', content: 'Hello' }], max_tokens: 5, seed: 3 });
    expect(text).toBe(whole.choices[0].message.content);
    expect(finish).toBe('length');
    expect(usage).toMatchObject({ completion_tokens: 5 });
    expect(rein.decision).toBe('allow');
  });

  test('OpenAI SDK: an unknown model is a NotFoundError, an unsupported parameter a BadRequestError naming it', async () => {
    await expect(client.chat.completions.create({ model: 'no-such-model', messages: [{ role: 'user', content: 'x' }] })).rejects.toMatchObject({ status: 404, code: 'not_found', param: '/model' });
    await expect(
      client.chat.completions.create({ model: 'tiny-llama', messages: [{ role: 'user', content: 'x' }], tools: [{ type: 'function', function: { name: 'f', parameters: {} } }] }),
    ).rejects.toMatchObject({ status: 400, code: 'invalid_request', param: '/tools' });
  });

  test('OpenAI SDK: completions and models', async () => {
    const completion = await client.completions.create({ model: 'tiny-llama', prompt: 'Once', max_tokens: 4, seed: 1 });
    expect(completion.object).toBe('text_completion');
    expect(completion.usage?.completion_tokens).toBe(4);
    const models = await client.models.list();
    expect(models.data.map((model) => model.id)).toEqual(['tiny-llama']);
  });

  test('vLLM structured_outputs and the guided_* forms constrain the chat output', async () => {
    const choice: any = await (await post(gateway, '/v1/chat/completions', { model: 'tiny-llama', messages: [{ role: 'user', content: 'pick' }], structured_outputs: { choice: ['alpha', 'beta'] }, seed: 4 })).json();
    expect(['alpha', 'beta']).toContain(choice.choices[0].message.content);
    const regex: any = await (await post(gateway, '/v1/chat/completions', { model: 'tiny-llama', messages: [{ role: 'user', content: 'n' }], guided_regex: '[0-9]{4}', seed: 4 })).json();
    expect(regex.choices[0].message.content).toMatch(/^[0-9]{4}$/);
    const json: any = await (
      await post(gateway, '/v1/chat/completions', {
        model: 'tiny-llama',
        messages: [{ role: 'user', content: 'j' }],
        response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'object', properties: { n: { type: 'integer' } }, required: ['n'], additionalProperties: false } } },
        seed: 4,
        max_tokens: 40,
      })
    ).json();
    expect(json.choices[0].finish_reason).toBe('stop');
    expect(Number.isInteger(JSON.parse(json.choices[0].message.content).n)).toBe(true);
    const two = await post(gateway, '/v1/chat/completions', { model: 'tiny-llama', messages: [{ role: 'user', content: 'n' }], guided_regex: 'a', guided_choice: ['b'] });
    expect(two.status).toBe(400);
  });

  test('native API: n samples with seed + i, stop sequences, finish reasons', async () => {
    const response = await post(gateway, '/v1/generate', { prompt: 'The', max_tokens: 6, n: 3, seed: 100, temperature: 1 });
    expect(response.status).toBe(200);
    const body: any = await response.json();
    expect(body.object).toBe('generation');
    expect(body.seed).toBe(100);
    expect(body.choices).toHaveLength(3);
    const single: any = await (await post(gateway, '/v1/generate', { prompt: 'The', max_tokens: 6, seed: 101, temperature: 1 })).json();
    expect(single.choices[0].text).toBe(body.choices[1].text);
    expect(body.usage.completion_tokens).toBe(18);
    const drawn: any = await (await post(gateway, '/v1/generate', { prompt: 'The', max_tokens: 2 })).json();
    expect(Number.isInteger(drawn.seed)).toBe(true);
  });

  test('native API: SSE token events, then a done event with the whole response', async () => {
    const response = await post(gateway, '/v1/generate', { prompt: 'The', max_tokens: 5, seed: 9, stream: true });
    expect(response.headers.get('content-type')).toMatch(/text\/event-stream/);
    const events = await readSse(response);
    const tokens = events.filter((event) => event.event === 'token').map((event) => JSON.parse(event.data));
    const done = events.find((event) => event.event === 'done');
    expect(tokens.length).toBeGreaterThan(0);
    const final: any = JSON.parse(done!.data);
    expect(tokens.map((token) => token.text).join('')).toBe(final.choices[0].text);
    expect(final.audit_id).toMatch(/^aud_/);
  });

  test('output policy: an e-mail in the output is redacted (the default fixture policy)', async () => {
    const response = await post(gateway, '/v1/check', { output: 'write to jane.doe@example.org today' });
    const body: any = await response.json();
    expect(body.decision).toBe('redact');
    expect(body.sanitized_output).toBe('write to [EMAIL] today');
  });

  test('input blocked by policy is a 400 content_filter with findings, and it is audited', async () => {
    const response = await post(gateway, '/v1/generate', { prompt: 'say forbiddenword please', policy: 'blocker' });
    expect(response.status).toBe(400);
    const body: any = await response.json();
    expect(body.error.code).toBe('content_filter');
    expect(body.error.findings[0].check).toMatch(/^blocklist/);
    const audit: any = await (await fetch(`${gateway.url}/v1/audit?decision=block&limit=5`)).json();
    expect(audit.records.length).toBeGreaterThan(0);
  });

  test('bad input gets the SPEC error codes naming the field, and the server keeps serving', async () => {
    const cases: Array<[unknown, number, string, string]> = [
      ['{not json', 400, 'invalid_request', ''],
      [{ prompt: 'x', max_tokens: 0 }, 400, 'invalid_request', '/max_tokens'],
      [{ prompt: 'x', max_tokens: 'many' }, 400, 'invalid_request', '/max_tokens'],
      [{ prompt: 'x', temperature: -1 }, 400, 'invalid_request', '/temperature'],
      [{ prompt: 'x', model: 'nope' }, 404, 'not_found', '/model'],
      [{ prompt: 'x', surprise: true }, 400, 'invalid_request', '/surprise'],
      [{ prompt: 'x', messages: [{ role: 'user', content: 'y' }] }, 400, 'invalid_request', ''],
      [{ prompt: 'x', constraint: { type: 'regex', pattern: '(a' } }, 422, 'constraint_invalid', '/constraint'],
      [{ prompt: 'x', constraint: { type: 'regex', pattern: '(a)\\1' } }, 422, 'constraint_unsupported', '/constraint'],
      [{ prompt: 'x', policy: 'nope' }, 404, 'not_found', '/policy'],
      [{ prompt: 'word '.repeat(2000) }, 400, 'context_length_exceeded', '/prompt'],
    ];
    for (const [body, status, code, param] of cases) {
      const response = await post(gateway, '/v1/generate', body);
      const json: any = await response.json();
      expect({ body, status: response.status, code: json.error?.code, param: json.error?.param }).toEqual({ body, status, code, param });
      expect(json.error.request_id).toBe(response.headers.get('x-request-id'));
    }
    const huge = await post(gateway, '/v1/generate', { prompt: 'x'.repeat(2 * 1024 * 1024) });
    expect(huge.status).toBe(413);
    expect(((await huge.json()) as any).error.code).toBe('payload_too_large');
    const after = await post(gateway, '/v1/generate', { prompt: 'still', max_tokens: 2 });
    expect(after.status).toBe(200);
  });

  test('health, readiness and Prometheus metrics', async () => {
    expect((await fetch(`${gateway.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${gateway.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(((await ready.json()) as any).components.models.ok).toBe(true);
    const metrics = await (await fetch(`${gateway.url}/metrics`)).text();
    expect(metrics).toMatch(/rein_http_requests_total\{route="\/v1\/generate",status="200"\} \d+/);
    expect(metrics).toMatch(/rein_stage_duration_seconds_bucket\{le="[^"]+",stage="generate"\}/);
    expect(metrics).toMatch(/rein_generated_tokens_total\{model="tiny-llama"\} \d+/);
  });

  test('a client that disconnects aborts its generation; the server keeps serving', async () => {
    const controller = new AbortController();
    const response = await fetch(`${gateway.url}/v1/generate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'The', max_tokens: 200, stream: true, seed: 1 }),
      signal: controller.signal,
    });
    const reader = response.body!.getReader();
    await reader.read();
    controller.abort();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const metrics = await (await fetch(`${gateway.url}/metrics`)).text();
    expect(metrics).toMatch(/rein_inflight_requests 1\b/); // only the /metrics request itself
    expect((await post(gateway, '/v1/generate', { prompt: 'ok', max_tokens: 2 })).status).toBe(200);
  });
});

describe('start-up and shutdown', () => {
  test('a missing model folder is a start-up error naming the file', async () => {
    await expect(startGateway({ config: { models: [{ id: 'x', path: '/nonexistent/model-dir' }], policies: { dir: POLICIES, default: 'default' } } })).rejects.toThrow(/nonexistent\/model-dir/);
  });

  test('without API keys it refuses to listen on a non-loopback address', async () => {
    await expect(startGateway({ args: ['--host', '0.0.0.0'], config: { policies: { dir: POLICIES, default: 'default' } } })).rejects.toThrow(/refusing to listen on 0\.0\.0\.0 without API keys/);
  });

  test('an unknown config key is an error naming it', async () => {
    await expect(startGateway({ config: { policies: { dir: POLICIES, default: 'default' }, servre: {} } })).rejects.toThrow(/unknown key 'servre'/);
  });

  test('SIGTERM lets an in-flight request finish, then exits 0', async () => {
    const gateway = await startGateway({ config: { policies: { dir: POLICIES, default: 'default' } } });
    const pending = post(gateway, '/v1/generate', { prompt: 'The', max_tokens: 120, seed: 1, temperature: 1 });
    await new Promise((resolve) => setTimeout(resolve, 150));
    const exit = gateway.stop('SIGTERM');
    const response = await pending;
    expect(response.status).toBe(200);
    expect(((await response.json()) as any).usage.completion_tokens).toBeGreaterThan(0);
    expect(await exit).toBe(0);
  });
});
