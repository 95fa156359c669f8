/**
 * `POST /v1/generate`, the native API (SPEC.md §3), on Express; the handler is in
 * ../generation-handlers.ts (shared with the lean request path).
 */
import { Router } from 'express';
import type { PipelineDeps } from '../../pipeline/pipeline-deps';
import type { RequireRole } from '../auth';
import { expressGenerationHandler } from './openai-routes';

export function createGenerateRouter(deps: PipelineDeps, requireRole: RequireRole): Router {
  const router = Router();
  router.post('/v1/generate', requireRole('generate'), expressGenerationHandler(deps, 'native'));
  return router;
}
