/**
 * createApp(deps): the Express application — middleware (request ids, helmet, body limits, auth,
 * rate limits, metrics), the routes, and the error envelope — and `listener`, the node:http request
 * listener that `serve` listens with: the lean path (src/server/lean-path.ts) answers the generation
 * endpoints' common case and everything else goes to Express. It does not listen; `serve` does.
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import express, { type Express, type NextFunction, type Request, type RequestHandler, type Response, type Router } from 'express';
import helmet from 'helmet';
import type { ApiKeyRegistry } from './access/api-keys';
import type { RateLimiter } from './access/rate-limiter';
import { GatewayError } from './errors/gateway-error';
import type { PipelineDeps } from './pipeline/pipeline-deps';
import { createAuthenticate, createRateLimit, createRequireRole, type RequireRole } from './server/auth';
import { createErrorHandler } from './server/error-envelope';
import { createGenerateRouter } from './server/routes/generate-routes';
import { createHealthRouter, type ReadinessProbe } from './server/routes/health-routes';
import { createOpenAiRouter } from './server/routes/openai-routes';
import { captureHeaders, createLeanPath } from './server/lean-path';
import { randomHex } from './util/random-hex';

export interface AppDeps extends PipelineDeps {
  keys: ApiKeyRegistry;
  rateLimiter: RateLimiter;
  probes: Record<string, ReadinessProbe>;
  /** Extra routers (policies, audit, check, console) built by the caller with the shared requireRole. */
  extraRouters?: (requireRole: RequireRole) => Router[];
  /** Static console assets (built); mounted at /console when present. */
  consoleRouter?: Router;
}

export interface ReinApp {
  app: Express;
  /** The request listener to serve with: the lean path first, then Express. */
  listener: RequestListener;
  /** Stop accepting new work (readyz turns 503) — used by graceful shutdown. */
  startDraining(): void;
  inflight(): number;
}

const ROUTE_LABELS = new Map<string, string>();
function routeLabel(request: Request): string {
  const path = request.route?.path ?? request.path;
  const label = typeof path === 'string' ? path : 'other';
  if (!ROUTE_LABELS.has(label) && ROUTE_LABELS.size > 200) return 'other';
  ROUTE_LABELS.set(label, label);
  return label;
}

export function createApp(deps: AppDeps): ReinApp {
  const app = express();
  let draining = false;
  let inflight = 0;
  app.disable('x-powered-by');
  app.set('trust proxy', deps.config.server.trust_proxy);
  app.set('etag', false);

  /** Request id, in-flight count and HTTP metrics — shared by the Express stack and the lean path. */
  const begin = (request: IncomingMessage, response: ServerResponse, route: () => string): string => {
    const incoming = request.headers['x-request-id'];
    const requestId = typeof incoming === 'string' && /^[A-Za-z0-9._-]{1,128}$/.test(incoming) ? incoming : randomHex(12);
    response.setHeader('X-Request-Id', requestId);
    const start = performance.now();
    inflight++;
    deps.metrics.inflightRequests.inc();
    let counted = false;
    const done = () => {
      if (counted) return;
      counted = true;
      inflight--;
      deps.metrics.inflightRequests.dec();
      const label = route();
      deps.metrics.httpRequests.inc({ route: label, status: String(response.statusCode) });
      deps.metrics.httpDuration.observe({ route: label }, (performance.now() - start) / 1000);
    };
    response.on('finish', done);
    response.on('close', done);
    return requestId;
  };
  app.use((request: Request, response: Response, next: NextFunction) => {
    response.locals.requestId = begin(request, response, () => routeLabel(request));
    next();
  });
  const securityHeaders = helmet({
    contentSecurityPolicy: {
      useDefaults: true,
      directives: { 'default-src': ["'self'"], 'script-src': ["'self'"], 'style-src': ["'self'"], 'img-src': ["'self'", 'data:'], 'connect-src': ["'self'"], 'frame-ancestors': ["'none'"] },
    },
  });
  app.use(securityHeaders);
  const limit = deps.config.server.body_limit_bytes;
  app.use(express.json({ limit, strict: false, type: ['application/json', 'application/*+json'] }));
  app.use(express.text({ limit, type: ['application/yaml', 'application/x-yaml', 'text/yaml', 'text/plain'] }));

  const requireRole = createRequireRole();
  const authenticate = createAuthenticate(deps.keys);
  const rateLimit = createRateLimit(deps.rateLimiter, deps.config.rate_limit.default, deps.metrics);

  // Health and readiness are unauthenticated (load balancers call them); metrics need the role when keys exist.
  const health = createHealthRouter({ probes: deps.probes, metrics: deps.metrics, requireRole, draining: () => draining });
  // Health probes are open, and so are the console's static files (a browser cannot send a key when it
  // loads a page; the files hold no data, and every API call the console makes needs the key).
  const isConsoleAsset = (request: Request) =>
    deps.consoleRouter !== undefined && (request.method === 'GET' || request.method === 'HEAD') && /^\/console(\/|$)/.test(request.path) && !request.path.startsWith('/console/api/');
  app.use((request: Request, response: Response, next: NextFunction) => {
    if (request.path === '/healthz' || request.path === '/readyz' || isConsoleAsset(request)) next();
    else authenticate(request, response, next);
  });
  app.use(health);
  if (deps.consoleRouter) app.use('/console', deps.consoleRouter);
  const refuseWhileDraining: RequestHandler = (_request, _response, next) => {
    if (draining) next(new GatewayError('unavailable', 'the gateway is shutting down'));
    else next();
  };
  app.use('/v1', refuseWhileDraining, rateLimit.before);
  const pipelineDeps: PipelineDeps = { ...deps, chargeTokens: rateLimit.chargeTokens };
  app.use(createGenerateRouter(pipelineDeps, requireRole));
  app.use(createOpenAiRouter(pipelineDeps, requireRole));
  for (const router of deps.extraRouters?.(requireRole) ?? []) app.use(router);
  app.use((request: Request, _response: Response, next: NextFunction) => {
    next(new GatewayError('not_found', `no route ${request.method} ${request.path}`));
  });
  app.use(createErrorHandler(deps.logger));
  const lean = createLeanPath({
    deps: pipelineDeps,
    keys: deps.keys,
    rateLimit,
    bodyLimitBytes: limit,
    securityHeaders: captureHeaders(securityHeaders),
    begin,
    isDraining: () => draining,
    logger: deps.logger,
  });
  return {
    app,
    listener: (request, response) => {
      if (!lean(request, response)) app(request, response);
    },
    startDraining: () => {
      draining = true;
    },
    inflight: () => inflight,
  };
}
