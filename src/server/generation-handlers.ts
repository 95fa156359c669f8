/**
 * The three generation endpoints — `POST /v1/chat/completions`, `POST /v1/completions` (OpenAI shapes
 * plus a `rein` object) and `POST /v1/generate` (the native shape) — written once, independent of the
 * HTTP layer: the lean request path (src/server/lean-path.ts) and the Express routes both call them
 * with an Exchange. Streaming: OpenAI-style chunks ending with one that carries `rein`, then
 * `data: [DONE]`; native `token` events and a final `done` event.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Principal } from '../access/api-keys';
import { toGatewayError } from '../errors/gateway-error';
import { fromNativeBody, fromOpenAiBody } from '../pipeline/generation-request';
import { createRequestContext, runGeneration, type GenerationResult } from '../pipeline/pipeline';
import type { PipelineDeps } from '../pipeline/pipeline-deps';
import { errorBody } from './error-envelope';
import { validateChatBody, validateCompletionsBody, validateGenerateBody } from './request-schemas';
import { clientAbortSignal } from './request-context';
import { SseWriter } from './sse';

export type GenerationApi = 'chat' | 'completions' | 'native';

export const GENERATION_ROUTES: ReadonlyMap<string, GenerationApi> = new Map<string, GenerationApi>([
  ['/v1/chat/completions', 'chat'],
  ['/v1/completions', 'completions'],
  ['/v1/generate', 'native'],
]);

/** One HTTP exchange as the handlers see it, whichever layer parsed the request. */
export interface Exchange {
  body: unknown;
  requestId: string;
  principal: Principal;
  request: IncomingMessage;
  response: ServerResponse;
  /** Sends `body` as a 200 JSON response. */
  sendJson(body: unknown): void;
}

export function nativeResponse(result: GenerationResult): Record<string, unknown> {
  return {
    id: result.id,
    object: 'generation',
    created: result.created,
    model: result.model,
    seed: result.seed,
    choices: result.choices.map((choice) => ({
      index: choice.index,
      text: choice.text,
      finish_reason: choice.finishReason,
      decision: choice.decision,
      ...(choice.constraintComplete !== undefined ? { constraint_complete: choice.constraintComplete } : {}),
    })),
    usage: result.usage,
    decision: result.decision,
    findings: result.findings,
    ...(result.consistency ? { consistency: result.consistency } : {}),
    policy: result.policy,
    audit_id: result.auditId ?? null,
    timings_ms: result.timings,
  };
}

function reinObject(result: GenerationResult): Record<string, unknown> {
  return {
    decision: result.decision,
    findings: result.findings,
    policy: result.policy,
    audit_id: result.auditId ?? null,
    seed: result.seed,
    choices: result.choices.map((choice) => ({
      index: choice.index,
      decision: choice.decision,
      ...(choice.constraintComplete !== undefined ? { constraint_complete: choice.constraintComplete } : {}),
    })),
    ...(result.consistency ? { consistency: result.consistency } : {}),
  };
}

function chatResponse(result: GenerationResult, id: string): Record<string, unknown> {
  return {
    id,
    object: 'chat.completion',
    created: result.created,
    model: result.model,
    choices: result.choices.map((choice) => ({
      index: choice.index,
      message: { role: 'assistant', content: choice.text, refusal: choice.finishReason === 'content_filter' ? choice.text : null },
      logprobs: null,
      finish_reason: choice.finishReason,
    })),
    usage: result.usage,
    system_fingerprint: null,
    rein: reinObject(result),
  };
}

function completionResponse(result: GenerationResult, id: string): Record<string, unknown> {
  return {
    id,
    object: 'text_completion',
    created: result.created,
    model: result.model,
    choices: result.choices.map((choice) => ({ index: choice.index, text: choice.text, logprobs: null, finish_reason: choice.finishReason })),
    usage: result.usage,
    rein: reinObject(result),
  };
}

/** Runs one generation request end to end; throws GatewayError before a stream has started. */
export async function handleGeneration(deps: PipelineDeps, api: GenerationApi, exchange: Exchange): Promise<void> {
  if (api === 'native') return handleNative(deps, exchange);
  return handleOpenAi(deps, api, exchange);
}

async function handleNative(deps: PipelineDeps, exchange: Exchange): Promise<void> {
  validateGenerateBody(exchange.body);
  const generation = fromNativeBody(exchange.body as Record<string, unknown>, deps.config);
  const context = createRequestContext({
    requestId: exchange.requestId,
    principal: exchange.principal,
    route: '/v1/generate',
    request: generation,
    signal: clientAbortSignal(exchange.request, exchange.response),
  });
  if (!generation.stream) {
    exchange.sendJson(nativeResponse(await runGeneration(deps, context)));
    return;
  }
  const sse = new SseWriter(exchange.response);
  try {
    const result = await runGeneration(deps, context, { delta: (choice, text) => sse.send({ choice, text }, 'token') });
    sse.send(nativeResponse(result), 'done');
    sse.end();
  } catch (error) {
    if (!sse.started) throw error;
    sse.send(errorBody(toGatewayError(error), exchange.requestId), 'error');
    sse.end();
  }
}

async function handleOpenAi(deps: PipelineDeps, api: 'chat' | 'completions', exchange: Exchange): Promise<void> {
  if (api === 'chat') validateChatBody(exchange.body);
  else validateCompletionsBody(exchange.body);
  const generation = fromOpenAiBody(exchange.body as Record<string, unknown>, api, deps.config);
  const { requestId } = exchange;
  const route = api === 'chat' ? '/v1/chat/completions' : '/v1/completions';
  const context = createRequestContext({ requestId, principal: exchange.principal, route, request: generation, signal: clientAbortSignal(exchange.request, exchange.response) });
  const id = `${api === 'chat' ? 'chatcmpl' : 'cmpl'}-${requestId}`;
  if (!generation.stream) {
    const result = await runGeneration(deps, context);
    exchange.sendJson(api === 'chat' ? chatResponse(result, id) : completionResponse(result, id));
    return;
  }
  const sse = new SseWriter(exchange.response);
  const created = Math.floor(Date.now() / 1000);
  const object = api === 'chat' ? 'chat.completion.chunk' : 'text_completion';
  const chunk = (model: string, choices: unknown[], extra: Record<string, unknown> = {}) => ({ id, object, created, model, choices, ...extra });
  /** Choices that have sent at least one delta (for chat: the role went with it). */
  const rolesSent = new Set<number>();
  let modelName = generation.model ?? '';
  try {
    const result = await runGeneration(deps, context, {
      delta: (choice, text) => {
        modelName = context.model?.id ?? modelName;
        if (api === 'chat') {
          const delta: Record<string, unknown> = { content: text };
          if (!rolesSent.has(choice)) {
            delta.role = 'assistant';
            rolesSent.add(choice);
          }
          sse.send(chunk(modelName, [{ index: choice, delta, logprobs: null, finish_reason: null }]));
        } else {
          rolesSent.add(choice);
          sse.send(chunk(modelName, [{ index: choice, text, logprobs: null, finish_reason: null }]));
        }
      },
    });
    // Buffered policies (checks that need the whole output) and blocked outputs send the final text here.
    for (const choice of result.choices) {
      const streamed = rolesSent.has(choice.index);
      const needsText = !streamed || choice.finishReason === 'content_filter';
      const text = needsText ? choice.text : '';
      const finish = { index: choice.index, logprobs: null, finish_reason: choice.finishReason };
      if (api === 'chat') {
        sse.send(chunk(result.model, [{ ...finish, delta: text || !streamed ? { role: 'assistant', content: text } : {} }]));
      } else {
        sse.send(chunk(result.model, [{ ...finish, text }]));
      }
    }
    if (generation.includeUsage) sse.send(chunk(result.model, [], { usage: result.usage }));
    sse.send(chunk(result.model, [], { rein: reinObject(result) }));
    sse.send('[DONE]');
    sse.end();
  } catch (error) {
    if (!sse.started) throw error;
    sse.send(errorBody(toGatewayError(error), requestId));
    sse.send('[DONE]');
    sse.end();
  }
}
