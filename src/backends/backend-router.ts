/**
 * Routes a request's model name to the backend that serves it. The first model is the default
 * (used when a request names none). An unknown model is a 404 `not_found` naming it.
 */
import type { Backend, ModelInfo } from './backend';
import { GatewayError } from '../errors/gateway-error';
import type { BackendRouter } from '../pipeline/pipeline-deps';

export function createBackendRouter(backends: Backend[]): BackendRouter & { backends: Backend[] } {
  const byModel = new Map<string, { backend: Backend; model: ModelInfo }>();
  for (const backend of backends) {
    for (const model of backend.models()) {
      if (!byModel.has(model.id)) byModel.set(model.id, { backend, model });
    }
  }
  const first = byModel.values().next().value as { backend: Backend; model: ModelInfo } | undefined;
  return {
    backends,
    resolve(model) {
      if (model === undefined) {
        if (!first) throw new GatewayError('unavailable', 'no model is configured');
        return first;
      }
      const found = byModel.get(model);
      if (!found) {
        throw new GatewayError('not_found', `model '${model}' does not exist; GET /v1/models lists the served models`, { param: '/model' });
      }
      return found;
    },
    models() {
      return [...byModel.values()].map(({ backend, model }) => ({ ...model, backend: backend.id }));
    },
  };
}
