/**
 * `GET /healthz` (the process is alive), `GET /readyz` (models/backends loaded, stores reachable, with
 * details per component; 503 when any is not ready) and `GET /metrics` (Prometheus text).
 */
import { Router } from 'express';
import type { Metrics } from '../../metrics/metrics';
import type { RequireRole } from '../auth';

export type ReadinessProbe = () => Promise<{ ok: boolean; detail?: string }> | { ok: boolean; detail?: string };

export function createHealthRouter(options: {
  probes: Record<string, ReadinessProbe>;
  metrics: Metrics;
  requireRole: RequireRole;
  /** Keys configured: /metrics needs the metrics role; otherwise it is open (loopback only). */
  draining: () => boolean;
}): Router {
  const router = Router();
  router.get('/healthz', (_request, response) => {
    response.json({ status: 'ok' });
  });
  router.get('/readyz', async (_request, response) => {
    const components: Record<string, { ok: boolean; detail?: string }> = {};
    await Promise.all(
      Object.entries(options.probes).map(async ([name, probe]) => {
        try {
          components[name] = await probe();
        } catch (error) {
          components[name] = { ok: false, detail: (error as Error).message };
        }
      }),
    );
    const draining = options.draining();
    const ok = !draining && Object.values(components).every((component) => component.ok);
    response.status(ok ? 200 : 503).json({ status: ok ? 'ready' : draining ? 'draining' : 'not_ready', components });
  });
  router.get('/metrics', options.requireRole('metrics'), async (_request, response) => {
    response.setHeader('Content-Type', options.metrics.registry.contentType);
    response.send(await options.metrics.registry.metrics());
  });
  return router;
}
