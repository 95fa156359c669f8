/**
 * The remote backend: an OpenAI-compatible server (vLLM, TGI, llama.cpp server, SGLang, Ollama, another
 * Rein) reached over HTTP — Rein's HTTP/1.1 client for http:, undici for https: (createTransport) — a
 * keep-alive pool, SSE streaming, a timeout per phase (connect,
 * first byte, between tokens, total), retries only before any output was received, a circuit breaker,
 * and abort propagation when the client goes away.
 *
 * Constraints: Rein translates its constraint into the server's native form where the server supports
 * it (native-constraints.ts) and STILL checks every byte of output with its own engine (a constraint
 * compiled against the byte vocabulary). Where the server cannot enforce it, the backend's
 * `on_unsupported_constraint` decides: `validate_retry` (buffer, check, retry a bounded number of
 * times, then a clear 502) or `refuse` (422 constraint_unsupported up front). An output that violates
 * its constraint is never returned.
 */
import { Pool, errors as undiciErrors } from 'undici';
import { Http1Client, type ExchangeHandler, type Http1ClientOptions, type Http1Request } from './http1-client';
import type { Backend, BackendCapabilities, BackendEvent, BackendRequest, FinishReason, ModelInfo } from '../backend';
import type { RemoteBackendConfig } from '../../config/config';
import type { ConstraintSpec } from '../../decoding/constraint';
import { GatewayError } from '../../errors/gateway-error';
import type { Logger } from '../../logging/logger';
import type { Metrics } from '../../metrics/metrics';
import { parseJson } from '../../util/parse-json';
import { BYTE_VOCABULARY, TextConstraintChecker } from './byte-vocabulary';
import { CircuitBreaker } from './circuit-breaker';
import { DEFAULT_NATIVE_CONSTRAINTS, nativeConstraintFields, type ServerKind } from './native-constraints';
import { UpstreamExchange } from './upstream-exchange';

export interface OpenAiHttpBackendOptions {
  config: RemoteBackendConfig;
  metrics?: Metrics;
  logger?: Logger;
  /** Resolves named constraints (`ref`, `name`) to the JSON Schema or grammar text sent to the server. */
  resolveConstraint?(spec: ConstraintSpec): { schema?: unknown; grammarText?: string };
  /** Attempts in validate_retry mode (first try included). */
  validateAttempts?: number;
}

export interface OpenAiHttpBackend extends Backend {
  /** Asks the server for its models (GET /models); updates models() and readiness. */
  probe(): Promise<void>;
  readonly circuit: CircuitBreaker;
}

interface ChoiceState {
  text: string;
  finishReason?: FinishReason;
  tokens: number;
  /** Text deltas received (rein_backend_tokens_total counts them once per call). */
  deltas: number;
  checker?: TextConstraintChecker;
}

const DEFAULT_CONTEXT = 4096;
/** Longest SSE line accepted from a server, and largest non-SSE body (an error, or a whole JSON answer). */
const MAX_SSE_LINE_BYTES = 4 * 1024 * 1024;
const MAX_BODY_BYTES = 32 * 1024 * 1024;

function mapFinishReason(reason: unknown): FinishReason {
  if (reason === 'length') return 'length';
  if (reason === 'content_filter') return 'content_filter';
  return 'stop';
}

/** Maps transport failures to gateway errors; retryable ones happened before any output. */
function transportError(error: unknown, backendId: string, phase: string): GatewayError {
  if (error instanceof GatewayError) return error;
  const code = (error as { code?: string }).code ?? '';
  const message = (error as Error).message ?? String(error);
  if (error instanceof undiciErrors.ConnectTimeoutError || code === 'UND_ERR_CONNECT_TIMEOUT') {
    return new GatewayError('backend_timeout', `backend ${backendId}: connect timed out`, { cause: error });
  }
  if (error instanceof undiciErrors.HeadersTimeoutError || code === 'UND_ERR_HEADERS_TIMEOUT') {
    return new GatewayError('backend_timeout', `backend ${backendId}: no response within the first-byte timeout`, { cause: error });
  }
  if (error instanceof undiciErrors.BodyTimeoutError || code === 'UND_ERR_BODY_TIMEOUT') {
    return new GatewayError('backend_timeout', `backend ${backendId}: the stream stalled (between-tokens timeout)`, { cause: error });
  }
  if ((error as Error).name === 'TimeoutError') {
    return new GatewayError('backend_timeout', `backend ${backendId}: total time limit reached during ${phase}`, { cause: error });
  }
  return new GatewayError('backend_error', `backend ${backendId}: ${phase} failed: ${message}`, { cause: error });
}

/** Sends requests to one origin: Rein's HTTP/1.1 client for http:, undici (TLS) for https:. */
interface Transport {
  dispatch(request: Http1Request, handler: ExchangeHandler): void;
  close(): Promise<void>;
}

function createTransport(url: URL, options: Http1ClientOptions): Transport {
  if (url.protocol === 'http:') return new Http1Client(url, options);
  const pool = new Pool(url.origin, {
    connections: options.connections,
    pipelining: 1,
    keepAliveTimeout: options.keepAliveTimeoutMs,
    connectTimeout: options.connectTimeoutMs,
    headersTimeout: options.headersTimeoutMs,
    bodyTimeout: options.bodyTimeoutMs,
  });
  return {
    dispatch: (request, handler) => {
      pool.dispatch({ path: request.path, method: request.method, headers: request.headers, body: request.body }, handler);
    },
    close: () => pool.close(),
  };
}

export function createOpenAiHttpBackend(options: OpenAiHttpBackendOptions): OpenAiHttpBackend {
  const { config, metrics, logger } = options;
  const url = new URL(config.url);
  const basePath = url.pathname.replace(/\/+$/, '');
  const kind = config.kind as ServerKind;
  const native = new Set(config.native_constraints ?? DEFAULT_NATIVE_CONSTRAINTS[kind]);
  const timeouts = config.timeouts_ms;
  const poolOptions = { connections: 64, keepAliveTimeoutMs: 30000, connectTimeoutMs: timeouts.connect, headersTimeoutMs: timeouts.first_byte, bodyTimeoutMs: timeouts.between_tokens };
  const transport = createTransport(url, poolOptions);
  const apiKey = config.api_key_env ? process.env[config.api_key_env] : undefined;
  const circuit = new CircuitBreaker({
    failureThreshold: config.circuit.failure_threshold,
    resetMs: config.circuit.reset_ms,
    onChange: (state) => {
      metrics?.circuitState.set({ backend: config.id }, state === 'open' ? 1 : 0);
      logger?.warn('backend circuit changed state', { backend: config.id, state });
    },
  });
  let modelList: ModelInfo[] = (config.models ?? []).map((id) => ({ id, contextLength: DEFAULT_CONTEXT, ownedBy: config.id }));
  let lastProbe: { ok: boolean; detail?: string } = { ok: config.models !== undefined && config.models.length > 0, detail: 'not probed yet' };
  const validateAttempts = Math.max(1, options.validateAttempts ?? config.max_retries + 2);

  const requestHeaders: Record<string, string> = {
    'content-type': 'application/json',
    accept: 'text/event-stream, application/json',
    ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}),
  };

  async function probe(): Promise<void> {
    try {
      const exchange = new UpstreamExchange(MAX_SSE_LINE_BYTES, MAX_BODY_BYTES);
      const limit = setTimeout(() => exchange.abort(new DOMException('the model list did not come in time', 'TimeoutError')), timeouts.connect + timeouts.first_byte);
      let text: string;
      try {
        transport.dispatch({ path: `${basePath}/models`, method: 'GET', headers: requestHeaders }, exchange);
        await exchange.started();
        text = await exchange.text();
      } finally {
        clearTimeout(limit);
      }
      if (exchange.statusCode !== 200) throw new Error(`GET /models answered ${exchange.statusCode}`);
      const parsed = parseJson<{ data?: Array<{ id?: string; max_model_len?: number; context_length?: number; owned_by?: string }> }>(text);
      if (!parsed.ok || !Array.isArray(parsed.value.data)) throw new Error('GET /models did not return a model list');
      const served = parsed.value.data.filter((entry) => typeof entry.id === 'string');
      const wanted = config.models;
      modelList = served
        .filter((entry) => !wanted || wanted.includes(entry.id!))
        .map((entry) => ({ id: entry.id!, contextLength: entry.max_model_len ?? entry.context_length ?? DEFAULT_CONTEXT, ownedBy: entry.owned_by ?? config.id }));
      for (const id of wanted ?? []) if (!modelList.some((model) => model.id === id)) modelList.push({ id, contextLength: DEFAULT_CONTEXT, ownedBy: config.id });
      lastProbe = { ok: true };
    } catch (error) {
      lastProbe = { ok: false, detail: (error as Error).message };
      logger?.warn('backend probe failed', { backend: config.id, error: (error as Error).message });
    }
  }

  function requestBody(request: BackendRequest, constraintFields: Record<string, unknown> | undefined): Record<string, unknown> {
    const body: Record<string, unknown> = {
      model: request.model,
      max_tokens: request.maxTokens,
      temperature: request.temperature,
      top_p: request.topP,
      n: request.n,
      seed: request.seed,
      stream: true,
      stream_options: { include_usage: true },
    };
    if (request.messages) body.messages = request.messages.map((message) => ({ role: message.role, content: message.content }));
    else body.prompt = request.prompt;
    if (request.stop.length > 0) body.stop = request.stop;
    // Sampling extensions that vLLM, SGLang, llama.cpp and Rein accept; OpenAI itself does not.
    if (kind !== 'openai') {
      if (request.topK > 0) body.top_k = request.topK;
      if (request.minP > 0) body.min_p = request.minP;
      if (request.repetitionPenalty !== 1) body.repetition_penalty = request.repetitionPenalty;
    }
    return { ...body, ...constraintFields };
  }

  /** One streamed call; yields events and fills `choices`. Throws GatewayError. */
  async function* call(request: BackendRequest, body: Record<string, unknown>, choices: ChoiceState[], signal: AbortSignal, live: boolean): AsyncGenerator<BackendEvent> {
    const path = `${basePath}${request.messages ? '/chat/completions' : '/completions'}`;
    const exchange = new UpstreamExchange(MAX_SSE_LINE_BYTES, MAX_BODY_BYTES);
    // The caller's abort or the total time limit, whichever comes first, stops the exchange with its reason.
    const onCallerAbort = () => exchange.abort(signal.reason instanceof Error ? signal.reason : new DOMException('aborted', 'AbortError'));
    if (signal.aborted) onCallerAbort();
    else signal.addEventListener('abort', onCallerAbort, { once: true });
    const totalTimer = setTimeout(() => exchange.abort(new DOMException(`total time limit of ${timeouts.total} ms`, 'TimeoutError')), timeouts.total);
    const started = performance.now();
    // One cleanup for every way out: error, HTTP error status, end of stream, or a caller that stops early.
    try {
      transport.dispatch({ path, method: 'POST', headers: requestHeaders, body: JSON.stringify(body) }, exchange);
      try {
        await exchange.started();
      } catch (error) {
        if (signal.aborted) throw error;
        throw transportError(error, config.id, 'the request');
      }
      if (exchange.statusCode >= 400) {
        const text = (await exchange.text().catch(() => '')).slice(0, 2000);
        const parsed = parseJson<{ error?: { message?: string } | string; message?: string }>(text);
        const detail = parsed.ok ? (typeof parsed.value.error === 'string' ? parsed.value.error : parsed.value.error?.message ?? parsed.value.message) : text;
        throw new GatewayError('backend_error', `backend ${config.id} answered HTTP ${exchange.statusCode}${detail ? `: ${detail}` : ''}`, {
          details: { backend_status: exchange.statusCode },
        });
      }
      try {
        if (!exchange.sse) {
          // A server that ignored stream: true — accept one JSON body.
          const parsed = parseJson<any>(await exchange.text());
          if (!parsed.ok) throw new GatewayError('backend_error', `backend ${config.id} sent a body that is not JSON`);
          const events = absorbChunk(parsed.value, choices, live, true);
          if (events) for (const event of events) yield event;
        } else {
          let batch: string[] | null;
          read: while ((batch = await exchange.next()) !== null) {
            for (const data of batch) {
              if (data === '[DONE]' || (data.length < 16 && data.trim() === '[DONE]')) {
                // The rest is read and dropped: the keep-alive connection goes back to the pool.
                exchange.discardRest();
                break read;
              }
              const parsed = parseJson<any>(data);
              if (!parsed.ok) throw new GatewayError('backend_error', `backend ${config.id} sent malformed SSE data: ${data.slice(0, 120)}`);
              if (parsed.value?.error) {
                const message = typeof parsed.value.error === 'string' ? parsed.value.error : parsed.value.error.message;
                throw new GatewayError('backend_error', `backend ${config.id} reported an error mid-stream: ${message ?? 'unknown'}`);
              }
              const events = absorbChunk(parsed.value, choices, live, false);
              if (events) for (const event of events) yield event;
            }
          }
        }
      } catch (error) {
        if (signal.aborted) throw error;
        throw transportError(error, config.id, 'streaming');
      }
    } finally {
      // An error, or a caller that stopped reading early: stop the upstream generation too (no-op once
      // the response ended or was handed to discardRest). The reason is built only when it is needed: a
      // DOMException records a stack trace.
      if (exchange.open) exchange.abort(new DOMException('the gateway stopped reading the response', 'AbortError'));
      clearTimeout(totalTimer);
      signal.removeEventListener('abort', onCallerAbort);
      if (metrics) {
        metrics.backendDuration.observe({ backend: config.id }, (performance.now() - started) / 1000);
        let deltas = 0;
        for (const choice of choices) deltas += choice.deltas;
        if (deltas > 0) metrics.backendTokens.inc({ backend: config.id }, deltas);
      }
    }
    for (const [index, choice] of choices.entries()) {
      if (choice.finishReason === undefined && choice.checker?.failedAt === undefined) {
        throw new GatewayError('backend_error', `backend ${config.id} ended the stream before choice ${index} finished`);
      }
    }
  }

  /**
   * Folds one chunk (or a whole JSON answer) into `choices`; returns the events to pass on, or null
   * when there are none — the usual case for a buffered call, so a token costs no array, generator or
   * promise of its own.
   */
  function absorbChunk(chunk: any, choices: ChoiceState[], live: boolean, whole: boolean): BackendEvent[] | null {
    let events: BackendEvent[] | null = null;
    if (chunk?.usage?.prompt_tokens !== undefined) events = [{ type: 'prompt-tokens', count: Number(chunk.usage.prompt_tokens) || 0 }];
    if (!Array.isArray(chunk?.choices)) return events;
    for (const entry of chunk.choices) {
      const index = Number(entry?.index ?? 0);
      const choice = choices[index];
      if (!choice) throw new GatewayError('backend_error', `backend ${config.id} sent choice ${index}, which was not asked for`);
      const text: string = whole ? entry.message?.content ?? entry.text ?? '' : entry.delta?.content ?? entry.text ?? '';
      if (typeof text !== 'string') throw new GatewayError('backend_error', `backend ${config.id} sent a non-text delta`);
      if (text) {
        if (choice.checker && !choice.checker.push(text)) {
          // Never pass on a byte that leaves the constraint; the caller decides between retry and error.
          choice.text += text;
          if (entry.finish_reason) choice.finishReason = mapFinishReason(entry.finish_reason);
          continue;
        }
        choice.text += text;
        choice.tokens++;
        choice.deltas++;
        if (live) (events ??= []).push({ type: 'token-delta', choice: index, text, tokenIds: [] });
      }
      if (entry.finish_reason) choice.finishReason = mapFinishReason(entry.finish_reason);
    }
    if (chunk?.usage?.completion_tokens !== undefined && choices.length === 1) choices[0].tokens = Number(chunk.usage.completion_tokens) || choices[0].tokens;
    return events;
  }

  async function* generate(request: BackendRequest, signal: AbortSignal): AsyncGenerator<BackendEvent> {
    const spec = request.constraintSpec;
    const lexical = request.lexical && ((request.lexical.include?.length ?? 0) > 0 || (request.lexical.exclude?.length ?? 0) > 0);
    let constraintFields: Record<string, unknown> | undefined;
    if (spec) {
      const resolved = options.resolveConstraint?.(spec) ?? { schema: spec.type === 'json_schema' ? spec.schema : undefined, grammarText: spec.type === 'grammar' ? spec.grammar : undefined };
      constraintFields = native.has(spec.type) ? nativeConstraintFields(kind, spec, resolved.schema, resolved.grammarText) : undefined;
    }
    const nativelyEnforced = spec !== undefined && constraintFields !== undefined && !lexical;
    const needsCheck = spec !== undefined || lexical;
    if (needsCheck && !nativelyEnforced && config.on_unsupported_constraint === 'refuse') {
      throw new GatewayError('constraint_unsupported', `backend ${config.id} (${kind}) cannot enforce this ${lexical ? 'lexical ' : ''}constraint natively, and its on_unsupported_constraint is 'refuse'`);
    }
    if (needsCheck && !request.constraint) {
      throw new GatewayError('constraint_unsupported', `backend ${config.id}: Rein could not compile a checker for this constraint`);
    }
    // Natively enforced (or unconstrained) outputs stream live, checked byte by byte as they pass; outputs
    // that only Rein can check are buffered until they pass.
    const live = request.stream && (!needsCheck || nativelyEnforced);
    const attempts = needsCheck && !nativelyEnforced ? validateAttempts : 1;
    let lastError: GatewayError | undefined;
    for (let attempt = 0; attempt < attempts; attempt++) {
      let retriesLeft = config.max_retries;
      for (;;) {
        if (!circuit.tryAcquire()) {
          metrics?.backendRequests.inc({ backend: config.id, outcome: 'circuit_open' });
          throw new GatewayError('unavailable', `backend ${config.id} is failing; its circuit is open`, { retryAfterSeconds: circuit.retryAfterMs() / 1000 });
        }
        const choices: ChoiceState[] = Array.from({ length: request.n }, () => ({ text: '', tokens: 0, deltas: 0, checker: request.constraint ? new TextConstraintChecker(request.constraint) : undefined }));
        let emitted = false;
        try {
          const body = requestBody({ ...request, seed: request.seed + attempt * request.n }, constraintFields);
          for await (const event of call(request, body, choices, signal, live)) {
            if (event.type === 'token-delta') emitted = true;
            yield event;
          }
          circuit.success();
          metrics?.backendRequests.inc({ backend: config.id, outcome: 'ok' });
        } catch (error) {
          if (signal.aborted) {
            circuit.success();
            throw error;
          }
          const gatewayError = transportError(error, config.id, 'the call');
          const status = Number(gatewayError.details?.backend_status ?? 0);
          const serverSide = status === 0 || status >= 500;
          if (serverSide) circuit.failure();
          else circuit.success();
          metrics?.backendRequests.inc({ backend: config.id, outcome: gatewayError.code });
          // Retry only when nothing reached the client and the failure may be transient.
          if (!emitted && serverSide && retriesLeft > 0 && gatewayError.code !== 'backend_timeout') {
            retriesLeft--;
            logger?.warn('retrying backend call', { backend: config.id, error: gatewayError.message });
            continue;
          }
          throw gatewayError;
        }
        // Check every choice against the constraint before anything buffered is released.
        const bad = choices.findIndex((choice) => choice.checker && (choice.checker.failedAt !== undefined || (choice.finishReason === 'stop' && !choice.checker.complete)));
        if (bad >= 0) {
          const where = choices[bad].checker!.failedAt;
          lastError = new GatewayError(
            'backend_error',
            `backend ${config.id} returned output that violates the constraint (choice ${bad}${where !== undefined ? `, at byte ${where}` : ', incomplete'})${nativelyEnforced ? ' although it enforces it natively' : ` after ${attempt + 1} attempt(s)`}`,
          );
          metrics?.backendRequests.inc({ backend: config.id, outcome: 'constraint_violation' });
          if (live || attempt + 1 >= attempts) throw lastError;
          break;
        }
        for (const [index, choice] of choices.entries()) {
          if (!live && choice.text) yield { type: 'token-delta', choice: index, text: choice.text, tokenIds: [] };
          yield {
            type: 'choice-end',
            choice: index,
            finishReason: choice.finishReason ?? 'stop',
            completionTokens: choice.tokens,
            constraintComplete: choice.checker ? choice.checker.complete : undefined,
          };
        }
        return;
      }
    }
    throw lastError ?? new GatewayError('backend_error', `backend ${config.id}: no valid output`);
  }

  const capabilities: BackendCapabilities = { tokenMask: false, streaming: true, nativeConstraints: [...native] };
  return {
    id: `http:${config.id}`,
    capabilities,
    circuit,
    probe,
    models: () => modelList,
    vocabulary: () => BYTE_VOCABULARY,
    generate,
    ready: async () => {
      if (circuit.state === 'open') return { ok: false, detail: 'circuit open' };
      return lastProbe;
    },
    close: async () => {
      await transport.close();
    },
  };
}
