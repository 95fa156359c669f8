/**
 * `POST /v1/generate`, the native API (SPEC.md §3): JSON response, or SSE with `token` events and a
 * final `done` event carrying the whole response object.
 */
import { Router, type Request, type Response } from 'express';
import { toGatewayError } from '../../errors/gateway-error';
import { fromNativeBody } from '../../pipeline/generation-request';
import { createRequestContext, runGeneration, type GenerationResult } from '../../pipeline/pipeline';
import type { PipelineDeps } from '../../pipeline/pipeline-deps';
import { errorBody } from '../error-envelope';
import { validateGenerateBody } from '../request-schemas';
import { clientAbortSignal, principalOf, requestIdOf } from '../request-context';
import { SseWriter } from '../sse';
import type { RequireRole } from '../auth';

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

export function createGenerateRouter(deps: PipelineDeps, requireRole: RequireRole): Router {
  const router = Router();
  router.post('/v1/generate', requireRole('generate'), async (request: Request, response: Response) => {
    validateGenerateBody(request.body);
    const generation = fromNativeBody(request.body, deps.config);
    const context = createRequestContext({
      requestId: requestIdOf(response),
      principal: principalOf(response),
      route: '/v1/generate',
      request: generation,
      signal: clientAbortSignal(request, response),
    });
    if (!generation.stream) {
      const result = await runGeneration(deps, context);
      response.json(nativeResponse(result));
      return;
    }
    const sse = new SseWriter(response);
    try {
      const result = await runGeneration(deps, context, { delta: (choice, text) => sse.send({ choice, text }, 'token') });
      sse.send(nativeResponse(result), 'done');
      sse.end();
    } catch (error) {
      if (!sse.started) throw error;
      sse.send(errorBody(toGatewayError(error), requestIdOf(response)), 'error');
      sse.end();
    }
  });
  return router;
}

