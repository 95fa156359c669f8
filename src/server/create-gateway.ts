/**
 * createGateway(config): the composition root. Loads the backends (embedded ONNX models, remote
 * OpenAI-compatible servers), the policy store and its checks, the constraint compiler, the audit
 * store, API keys and rate limits, and returns the Express app with everything wired — the one place
 * that knows which implementation stands behind each interface.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ApiKeyRegistry } from '../access/api-keys';
import { createRateLimiter } from '../access/rate-limiter';
import { createApp, type AppDeps, type ReinApp } from '../app';
import { openAuditStore } from '../audit/open-audit-store';
import type { AuditStore } from '../audit/audit-store';
import { buildAuditEvent } from '../audit/audit-event';
import type { Backend } from '../backends/backend';
import { createBackendRouter } from '../backends/backend-router';
import { createOnnxBackend } from '../backends/onnx/onnx-backend';
import { createOpenAiHttpBackend, type OpenAiHttpBackend } from '../backends/openai-http/openai-http-backend';
import type { ReinConfig } from '../config/config';
import type { Logger } from '../logging/logger';
import { createMetrics, type Metrics } from '../metrics/metrics';
import { loadBuiltinChecks } from '../policy/builtin-checks';
import { withOffload } from '../policy/check-registry';
import { createCheckWorkerPool } from '../policy/check-worker-pool';
import { createPolicyStore, type PolicyStore } from '../policy/policy-store';
import { createStreamFilter } from '../policy/stream-filter';
import { createConstraintCompiler } from '../pipeline/adapters/constraint-compiler';
import { createPolicyRuntime } from '../pipeline/adapters/policy-runtime';
import type { AuditSink, PipelineDeps } from '../pipeline/pipeline-deps';
import { createAuditRouter } from './routes/audit-routes';
import { createCheckRouter } from './routes/check-routes';
import { createConsoleRouter } from './routes/console-routes';
import { createPolicyRouter } from './routes/policy-routes';
import type { RequireRole } from './auth';

export interface Gateway {
  app: ReinApp;
  deps: AppDeps;
  modelIds: string[];
  policyStore: PolicyStore;
  auditStore?: AuditStore;
  close(): Promise<void>;
}

export interface CreateGatewayOptions {
  logger: Logger;
  metrics?: Metrics;
  /** Repository root for relative paths (models, policies, grammars); default: the working directory. */
  root?: string;
}

export async function createGateway(config: ReinConfig, options: CreateGatewayOptions): Promise<Gateway> {
  const { logger } = options;
  const root = options.root ?? process.cwd();
  const resolve = (target: string) => path.resolve(root, target);
  const metrics = options.metrics ?? createMetrics();
  const closers: Array<() => Promise<void> | void> = [];
  const close = async () => {
    for (const closer of closers.reverse()) await Promise.resolve(closer()).catch((error: unknown) => logger.warn('close failed', { error }));
  };

  try {
    // Backends: embedded models first (the first model is the default), then remote servers.
    const backends: Backend[] = [];
    for (const model of config.models) {
      const backend = await createOnnxBackend({
        modelDir: resolve(model.path),
        modelId: model.id,
        executionProvider: model.execution_provider,
        maxBatchSize: model.max_batch_size,
        executor: model.executor,
        maxSamples: Math.max(config.limits.max_n, 32),
        ...(model.threads !== undefined ? { intraOpNumThreads: model.threads } : {}),
      });
      closers.push(() => backend.close());
      backends.push(backend);
      logger.info('model loaded', { model: model.id, path: model.path, execution_provider: model.execution_provider });
    }
    const constraints = createConstraintCompiler({ grammarsDir: resolve(config.constraints.grammars_dir), constraintsDir: resolve(config.constraints.constraints_dir) });
    for (const remote of config.backends) {
      const backend: OpenAiHttpBackend = createOpenAiHttpBackend({
        config: remote,
        metrics,
        logger,
        resolveConstraint: (spec) => ({
          schema: constraints.resolveSchema(spec),
          grammarText:
            spec.type === 'grammar' ? spec.grammar ?? fs.readFileSync(path.join(resolve(config.constraints.grammars_dir), `${spec.name}.gbnf`), 'utf8') : undefined,
        }),
      });
      await backend.probe();
      closers.push(() => backend.close());
      backends.push(backend);
      logger.info('remote backend configured', { backend: remote.id, url: remote.url, models: backend.models().map((model) => model.id) });
    }
    const backendRouter = createBackendRouter(backends);

    // Policies and their checks. The perplexity-based detectors use their shipped character language
    // model, whose scores are calibrated; an ONNX guard LM (createOnnxScorer) plugs in through
    // detectorOptions.scorer once its calibration has been fitted (see models/guards/README.md).
    // Large texts' checks run on worker threads built from the same options (issue 11).
    const checkOptions = { redactionKey: config.audit.hmac_key, detectorOptions: {} };
    const offload = config.checks?.offload;
    const checkPool = offload?.enabled
      ? createCheckWorkerPool({ checks: checkOptions, workers: offload.workers, minChars: offload.min_chars, log: (message) => logger.warn(message) })
      : undefined;
    if (checkPool) {
      closers.push(() => checkPool.close());
      metrics.watchCheckPool(() => checkPool.stats());
    }
    const registry = withOffload(loadBuiltinChecks({ ...checkOptions, log: (message) => logger.warn(message) }), checkPool);
    const policyStore = createPolicyStore({
      directory: resolve(config.policies.dir),
      registry,
      watch: config.policies.watch,
      reloadErrorCounter: metrics.policyReloadErrors,
      log: (message) => logger.warn(message),
      onReload: (changed) => {
        if (changed.length > 0) logger.info('policies reloaded', { changed });
      },
    });
    closers.push(() => policyStore.close());
    if (!policyStore.get(config.policies.default)) {
      throw new Error(`the default policy '${config.policies.default}' is not in ${resolve(config.policies.dir)}`);
    }
    const policies = createPolicyRuntime({
      policies: {
        get: (name) => policyStore.get(name),
        health: () => {
          const errors = policyStore.errors();
          return errors.length === 0 ? { ok: true } : { ok: true, detail: `${errors.length} policy file(s) failed to load: ${errors.map((error) => error.file).join(', ')}` };
        },
      },
      registry,
      defaultPolicy: config.policies.default,
      streamFilter: (policy, checkRegistry, choice) => createStreamFilter(policy, checkRegistry, { choice }),
    });

    // Audit.
    let auditStore: AuditStore | undefined;
    let audit: AuditSink | undefined;
    auditStore = await openAuditStore(config.audit.store, {
      hmacKey: config.audit.hmac_key,
      mode: config.audit.mode,
      failMode: config.audit.fail_mode,
      sqliteSynchronous: config.audit.sqlite_synchronous,
      dropped: metrics.auditDropped,
      dataDir: config.audit.store.startsWith('sqlite:') ? undefined : resolve('data'),
      logger: { info: (message, fields) => logger.info(message, fields), warn: (message, fields) => logger.warn(message, fields), error: (message, fields) => logger.error(message, fields) },
    });
    closers.push(() => auditStore!.close());
    const store = auditStore;
    audit = {
      record: async (fields, level) => (await store.append(buildAuditEvent(fields, level))).id ?? undefined,
      health: async () => {
        const health = await store.health();
        return { ok: health.ok, detail: health.ok ? undefined : String((health as { detail?: string }).detail ?? 'unhealthy') };
      },
    };
    if (config.audit.retention_days !== undefined) {
      const days = config.audit.retention_days;
      const prune = () => store.prune(days).catch((error: unknown) => logger.error('audit retention prune failed', { error }));
      void prune();
      const timer = setInterval(prune, 6 * 3600 * 1000);
      timer.unref();
      closers.push(() => clearInterval(timer));
    }

    const keys = new ApiKeyRegistry(config.keys);
    const rateLimiter = createRateLimiter(config.rate_limit.store);
    closers.push(() => rateLimiter.close());

    const pipelineDeps: PipelineDeps = { config, backends: backendRouter, policies, constraints, audit, logger, metrics };
    const deps: AppDeps = {
      ...pipelineDeps,
      keys,
      rateLimiter,
      probes: {
        models: async () => {
          const states = await Promise.all(backends.map(async (backend) => ({ id: backend.id, ...(await backend.ready()) })));
          const bad = states.filter((state) => !state.ok);
          return bad.length === 0 && backends.length > 0 ? { ok: true } : { ok: false, detail: bad.map((state) => `${state.id}: ${state.detail ?? 'not ready'}`).join('; ') || 'no backend' };
        },
        policies: () => policies.health(),
        audit: () => audit!.health(),
        rate_limit: () => rateLimiter.health(),
      },
      consoleRouter: config.console.enabled
        ? createConsoleRouter({ root, grammarsDir: resolve(config.constraints.grammars_dir), constraintsDir: resolve(config.constraints.constraints_dir) })
        : undefined,
      extraRouters: (requireRole: RequireRole) => [
        createCheckRouter({ deps: pipelineDeps, registry, policyStore, requireRole }),
        createPolicyRouter({ store: policyStore, registry, requireRole }),
        createAuditRouter({ store, requireRole }),
      ],
    };
    const app = createApp(deps);
    return { app, deps, modelIds: backendRouter.models().map((model) => model.id), policyStore, auditStore, close };
  } catch (error) {
    await close();
    throw error;
  }
}
