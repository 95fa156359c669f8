/**
 * The OpenAI-compatible API: `POST /v1/chat/completions`, `POST /v1/completions`, `GET /v1/models`.
 * Same shapes as OpenAI's (so the SDKs work unchanged) plus a `rein` object
 * `{decision, findings, policy, audit_id, seed}`; streaming ends with a chunk carrying `rein`,
 * then `data: [DONE]`.
 */
import { Router, type Request, type Response } from 'express';
import { toGatewayError } from '../../errors/gateway-error';
import { fromOpenAiBody } from '../../pipeline/generation-request';
import { createRequestContext, runGeneration, type GenerationResult } from '../../pipeline/pipeline';
import type { PipelineDeps } from '../../pipeline/pipeline-deps';
import { errorBody } from '../error-envelope';
import { validateChatBody, validateCompletionsBody } from '../request-schemas';
import { clientAbortSignal, principalOf, requestIdOf } from '../request-context';
import { SseWriter } from '../sse';
import type { RequireRole } from '../auth';

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

function createCompletionHandler(deps: PipelineDeps, api: 'chat' | 'completions') {
  const validate = api === 'chat' ? validateChatBody : validateCompletionsBody;
  const route = api === 'chat' ? '/v1/chat/completions' : '/v1/completions';
  return async (request: Request, response: Response) => {
    validate(request.body);
    const generation = fromOpenAiBody(request.body, api, deps.config);
    const requestId = requestIdOf(response);
    const context = createRequestContext({ requestId, principal: principalOf(response), route, request: generation, signal: clientAbortSignal(request, response) });
    const id = `${api === 'chat' ? 'chatcmpl' : 'cmpl'}-${requestId}`;
    if (!generation.stream) {
      const result = await runGeneration(deps, context);
      response.json(api === 'chat' ? chatResponse(result, id) : completionResponse(result, id));
      return;
    }
    const sse = new SseWriter(response);
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
  };
}

export function createOpenAiRouter(deps: PipelineDeps, requireRole: RequireRole): Router {
  const router = Router();
  router.post('/v1/chat/completions', requireRole('generate'), createCompletionHandler(deps, 'chat'));
  router.post('/v1/completions', requireRole('generate'), createCompletionHandler(deps, 'completions'));
  router.get('/v1/models', requireRole('generate'), (_request, response) => {
    const created = Math.floor(Date.now() / 1000);
    response.json({
      object: 'list',
      data: deps.backends.models().map((model) => ({ id: model.id, object: 'model', created, owned_by: model.ownedBy, context_length: model.contextLength, backend: model.backend })),
    });
  });
  return router;
}
