/**
 * The remote backend against a real HTTP server that injects faults: every failure ends quickly in a
 * clear 502/504 (never a hang), retries happen only before output, and the circuit opens and closes.
 */
import { createOpenAiHttpBackend } from '../../../src/backends/openai-http/openai-http-backend';
import type { BackendEvent, BackendRequest } from '../../../src/backends/backend';
import type { RemoteBackendConfig } from '../../../src/config/config';
import { GatewayError } from '../../../src/errors/gateway-error';
import { createMetrics } from '../../../src/metrics/metrics';
import { startFaultServer, type FaultServer } from '../../../tools/fixture-servers/fault-server';

function backendConfig(url: string, overrides: Partial<RemoteBackendConfig> = {}): RemoteBackendConfig {
  return {
    id: 'fault',
    url,
    kind: 'vllm',
    timeouts_ms: { connect: 1000, first_byte: 300, between_tokens: 300, total: 5000 },
    max_retries: 1,
    circuit: { failure_threshold: 3, reset_ms: 300 },
    on_unsupported_constraint: 'validate_retry',
    ...overrides,
  };
}

function request(model: string, overrides: Partial<BackendRequest> = {}): BackendRequest {
  return {
    model,
    messages: [{ role: 'user', content: 'hi' }],
    maxTokens: 16,
    temperature: 0,
    topP: 1,
    topK: 0,
    minP: 0,
    repetitionPenalty: 1,
    seed: 1,
    stop: [],
    n: 1,
    stream: true,
    ...overrides,
  };
}

async function collect(iterable: AsyncIterable<BackendEvent>): Promise<BackendEvent[]> {
  const events: BackendEvent[] = [];
  for await (const event of iterable) events.push(event);
  return events;
}

async function failure(promise: Promise<unknown>): Promise<GatewayError> {
  try {
    await promise;
  } catch (error) {
    return error as GatewayError;
  }
  throw new Error('expected a failure');
}

describe('remote OpenAI-compatible backend', () => {
  let server: FaultServer;
  beforeAll(async () => {
    server = await startFaultServer({ delayMs: 2000 });
  });
  afterAll(async () => {
    await server.close();
  });

  test('probes the model list and streams deltas with usage', async () => {
    const backend = createOpenAiHttpBackend({ config: backendConfig(server.url) });
    await backend.probe();
    expect(backend.models().map((model) => model.id)).toContain('ok');
    expect(backend.models().find((model) => model.id === 'ok')?.contextLength).toBe(2048);
    const events = await collect(backend.generate(request('ok'), new AbortController().signal));
    const text = events.filter((event) => event.type === 'token-delta').map((event) => (event as { text: string }).text).join('');
    expect(text).toBe('Hello world');
    expect(events).toContainEqual({ type: 'prompt-tokens', count: 5 });
    expect(events.at(-1)).toMatchObject({ type: 'choice-end', finishReason: 'stop', completionTokens: 2 });
    expect(await backend.ready()).toEqual({ ok: true });
    await backend.close();
  });

  test('a long answer: live calls pass on every delta, buffered calls one text; the token counter counts every delta', async () => {
    const metrics = createMetrics();
    const backend = createOpenAiHttpBackend({ config: backendConfig(server.url), metrics });
    const live = await collect(backend.generate(request('long'), new AbortController().signal));
    const deltas = live.filter((event) => event.type === 'token-delta');
    expect(deltas).toHaveLength(200);
    expect(deltas.map((event) => (event as { text: string }).text).join('')).toBe(' word'.repeat(200));
    const buffered = await collect(backend.generate(request('long', { stream: false }), new AbortController().signal));
    expect(buffered.filter((event) => event.type === 'token-delta')).toEqual([{ type: 'token-delta', choice: 0, text: ' word'.repeat(200), tokenIds: [] }]);
    expect(buffered).toContainEqual({ type: 'prompt-tokens', count: 5 });
    expect(buffered.at(-1)).toMatchObject({ type: 'choice-end', finishReason: 'stop', completionTokens: 200 });
    const counter = await metrics.registry.getSingleMetricAsString('rein_backend_tokens_total');
    expect(counter).toContain('rein_backend_tokens_total{backend="fault"} 400');
    await backend.close();
  });

  test('n samples are asked for with the backend n', async () => {
    const backend = createOpenAiHttpBackend({ config: backendConfig(server.url) });
    const events = await collect(backend.generate(request('ok', { n: 3 }), new AbortController().signal));
    expect(server.lastBody.n).toBe(3);
    expect(events.filter((event) => event.type === 'choice-end')).toHaveLength(3);
    await backend.close();
  });

  test('a slow first byte is a 504 within the first-byte timeout', async () => {
    const backend = createOpenAiHttpBackend({ config: backendConfig(server.url) });
    const started = Date.now();
    const error = await failure(collect(backend.generate(request('slow-first'), new AbortController().signal)));
    expect(error.code).toBe('backend_timeout');
    expect(Date.now() - started).toBeLessThan(1500);
    await backend.close();
  });

  test('a stall mid-stream is a 504', async () => {
    const backend = createOpenAiHttpBackend({ config: backendConfig(server.url) });
    const error = await failure(collect(backend.generate(request('stall'), new AbortController().signal)));
    expect(error.code).toBe('backend_timeout');
    expect(error.message).toMatch(/stalled/);
    await backend.close();
  });

  test('malformed SSE and connection resets are 502s', async () => {
    const backend = createOpenAiHttpBackend({ config: backendConfig(server.url, { circuit: { failure_threshold: 100, reset_ms: 300 } }) });
    expect((await failure(collect(backend.generate(request('malformed'), new AbortController().signal)))).code).toBe('backend_error');
    expect((await failure(collect(backend.generate(request('reset'), new AbortController().signal)))).code).toBe('backend_error');
    await backend.close();
  });

  test('a 500 is retried once before output, then a 502 naming the backend', async () => {
    const backend = createOpenAiHttpBackend({ config: backendConfig(server.url) });
    const before = server.calls;
    const error = await failure(collect(backend.generate(request('error-500'), new AbortController().signal)));
    expect(error.code).toBe('backend_error');
    expect(error.message).toMatch(/fault.*500.*boom/);
    expect(server.calls - before).toBe(2);
    await backend.close();
  });

  test('a flaky backend succeeds on the retry', async () => {
    const backend = createOpenAiHttpBackend({ config: backendConfig(server.url) });
    server.calls = 0;
    const events = await collect(backend.generate(request('flaky'), new AbortController().signal));
    expect(events.some((event) => event.type === 'token-delta' && event.text === 'recovered')).toBe(true);
    await backend.close();
  });

  test('the circuit opens after repeated failures, fails fast, and closes after a good trial', async () => {
    const backend = createOpenAiHttpBackend({ config: backendConfig(server.url, { max_retries: 0, circuit: { failure_threshold: 2, reset_ms: 250 } }) });
    for (let i = 0; i < 2; i++) await failure(collect(backend.generate(request('error-500'), new AbortController().signal)));
    expect(backend.circuit.state).toBe('open');
    const before = server.calls;
    const fast = await failure(collect(backend.generate(request('ok'), new AbortController().signal)));
    expect(fast.code).toBe('unavailable');
    expect(server.calls).toBe(before);
    expect((await backend.ready()).ok).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(backend.circuit.state).toBe('half-open');
    await collect(backend.generate(request('ok'), new AbortController().signal));
    expect(backend.circuit.state).toBe('closed');
    await backend.close();
  });

  test('an abort from the client stops the call at once', async () => {
    const backend = createOpenAiHttpBackend({ config: backendConfig(server.url, { timeouts_ms: { connect: 1000, first_byte: 5000, between_tokens: 5000, total: 10000 } }) });
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(new Error('client went away')), 100);
    await failure(collect(backend.generate(request('stall'), controller.signal)));
    expect(Date.now() - started).toBeLessThan(1000);
    expect(backend.circuit.state).toBe('closed');
    await backend.close();
  });

  test('a constraint the kind cannot enforce is refused up front when the backend says refuse', async () => {
    const backend = createOpenAiHttpBackend({ config: backendConfig(server.url, { kind: 'openai', on_unsupported_constraint: 'refuse' }) });
    const error = await failure(
      collect(backend.generate(request('ok', { constraintSpec: { type: 'regex', pattern: 'a+' } }), new AbortController().signal)),
    );
    expect(error.code).toBe('constraint_unsupported');
    await backend.close();
  });
});
