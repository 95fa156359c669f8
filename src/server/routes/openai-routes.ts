/**
 * The OpenAI-compatible API on Express: `POST /v1/chat/completions`, `POST /v1/completions` (the
 * handlers live in ../generation-handlers.ts; the lean request path serves the common case of these
 * and reaches this router only for requests it leaves to Express) and `GET /v1/models`.
 */
import { Router, type Request, type Response } from 'express';
import type { PipelineDeps } from '../../pipeline/pipeline-deps';
import { handleGeneration, type GenerationApi } from '../generation-handlers';
import { principalOf, requestIdOf } from '../request-context';
import type { RequireRole } from '../auth';

/** An Express handler for one generation API. */
export function expressGenerationHandler(deps: PipelineDeps, api: GenerationApi) {
  return (request: Request, response: Response) =>
    handleGeneration(deps, api, {
      body: request.body,
      requestId: requestIdOf(response),
      principal: principalOf(response),
      request,
      response,
      sendJson: (body) => response.json(body),
    });
}

export function createOpenAiRouter(deps: PipelineDeps, requireRole: RequireRole): Router {
  const router = Router();
  router.post('/v1/chat/completions', requireRole('generate'), expressGenerationHandler(deps, 'chat'));
  router.post('/v1/completions', requireRole('generate'), expressGenerationHandler(deps, 'completions'));
  router.get('/v1/models', requireRole('generate'), (_request, response) => {
    const created = Math.floor(Date.now() / 1000);
    response.json({
      object: 'list',
      data: deps.backends.models().map((model) => ({ id: model.id, object: 'model', created, owned_by: model.ownedBy, context_length: model.contextLength, backend: model.backend })),
    });
  });
  return router;
}
