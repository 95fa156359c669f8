/**
 * Every Prometheus metric Rein exports, defined in this one file (prefix `rein_`, units as suffixes).
 * A Metrics object owns its own registry so that tests can create several gateways in one process.
 */
import client from 'prom-client';

export interface Metrics {
  readonly registry: client.Registry;
  readonly httpRequests: client.Counter<'route' | 'status'>;
  readonly httpDuration: client.Histogram<'route'>;
  readonly stageDuration: client.Histogram<'stage'>;
  readonly findings: client.Counter<'check' | 'verdict'>;
  readonly decisions: client.Counter<'decision'>;
  readonly tokensGenerated: client.Counter<'model'>;
  readonly promptTokens: client.Counter<'model'>;
  readonly inflightRequests: client.Gauge;
  readonly policyReloadErrors: client.Counter<'policy'>;
  readonly auditDropped: client.Counter;
  readonly auditAppendDuration: client.Histogram;
  readonly rateLimited: client.Counter<'key'>;
  readonly backendRequests: client.Counter<'backend' | 'outcome'>;
  readonly backendDuration: client.Histogram<'backend'>;
  readonly backendTokens: client.Counter<'backend'>;
  readonly circuitState: client.Gauge<'backend'>;
  readonly constraintCompileDuration: client.Histogram<'kind'>;
  readonly maskDuration: client.Histogram;
  /** Exports the check worker pool's state (read when /metrics is scraped). */
  watchCheckPool(read: () => CheckPoolCounts): void;
}

/** The counts of the check worker pool that /metrics exports (see src/policy/check-worker-pool.ts). */
export interface CheckPoolCounts {
  workers: number;
  busy: number;
  queued: number;
  completed: number;
  terminated: number;
  crashed: number;
}

export function createMetrics(options: { collectDefault?: boolean } = {}): Metrics {
  const registry = new client.Registry();
  if (options.collectDefault !== false) client.collectDefaultMetrics({ register: registry, prefix: 'rein_process_' });
  const fast = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
  let poolReader: (() => CheckPoolCounts) | undefined;
  return {
    registry,
    httpRequests: new client.Counter({ name: 'rein_http_requests_total', help: 'HTTP requests by route and status', labelNames: ['route', 'status'], registers: [registry] }),
    httpDuration: new client.Histogram({ name: 'rein_http_request_duration_seconds', help: 'HTTP request duration', labelNames: ['route'], buckets: fast, registers: [registry] }),
    stageDuration: new client.Histogram({ name: 'rein_stage_duration_seconds', help: 'Pipeline stage duration', labelNames: ['stage'], buckets: fast, registers: [registry] }),
    findings: new client.Counter({ name: 'rein_findings_total', help: 'Findings by check and verdict', labelNames: ['check', 'verdict'], registers: [registry] }),
    decisions: new client.Counter({ name: 'rein_decisions_total', help: 'Request decisions', labelNames: ['decision'], registers: [registry] }),
    tokensGenerated: new client.Counter({ name: 'rein_generated_tokens_total', help: 'Completion tokens generated', labelNames: ['model'], registers: [registry] }),
    promptTokens: new client.Counter({ name: 'rein_prompt_tokens_total', help: 'Prompt tokens processed', labelNames: ['model'], registers: [registry] }),
    inflightRequests: new client.Gauge({ name: 'rein_inflight_requests', help: 'Requests in flight', registers: [registry] }),
    policyReloadErrors: new client.Counter({ name: 'rein_policy_reload_errors_total', help: 'Policy files that failed validation on load or reload (the previous good version stays in force)', labelNames: ['policy'], registers: [registry] }),
    auditDropped: new client.Counter({ name: 'rein_audit_dropped_total', help: 'Audit records lost in async mode', registers: [registry] }),
    auditAppendDuration: new client.Histogram({ name: 'rein_audit_append_duration_seconds', help: 'Audit append latency', buckets: fast, registers: [registry] }),
    rateLimited: new client.Counter({ name: 'rein_rate_limited_total', help: 'Requests refused by rate limits', labelNames: ['key'], registers: [registry] }),
    backendRequests: new client.Counter({ name: 'rein_backend_requests_total', help: 'Backend calls by outcome', labelNames: ['backend', 'outcome'], registers: [registry] }),
    backendDuration: new client.Histogram({ name: 'rein_backend_request_duration_seconds', help: 'Backend call duration', labelNames: ['backend'], buckets: fast, registers: [registry] }),
    backendTokens: new client.Counter({ name: 'rein_backend_tokens_total', help: 'Tokens received from a backend', labelNames: ['backend'], registers: [registry] }),
    circuitState: new client.Gauge({ name: 'rein_backend_circuit_open', help: '1 when the backend circuit is open', labelNames: ['backend'], registers: [registry] }),
    constraintCompileDuration: new client.Histogram({ name: 'rein_constraint_compile_duration_seconds', help: 'Constraint compile time', labelNames: ['kind'], buckets: fast, registers: [registry] }),
    maskDuration: new client.Histogram({ name: 'rein_mask_duration_seconds', help: 'Token mask computation time', buckets: [0.00001, 0.00005, 0.0001, 0.0005, 0.001, 0.005, 0.01], registers: [registry] }),
    watchCheckPool(watched) {
      // One set of metrics per registry; a later pool (a gateway rebuilt on the same Metrics) replaces the reader.
      poolReader = watched;
      if (registry.getSingleMetric('rein_check_workers')) return;
      const read = () => poolReader!();
      // Gauges read the pool at scrape time; the counters follow the pool's own running totals.
      new client.Gauge({ name: 'rein_check_workers', help: 'Check worker threads, by state', labelNames: ['state'], registers: [registry], collect() {
        const counts = read();
        this.set({ state: 'running' }, counts.workers);
        this.set({ state: 'busy' }, counts.busy);
      } });
      new client.Gauge({ name: 'rein_check_tasks_queued', help: 'Offloaded check tasks waiting for a worker', registers: [registry], collect() {
        this.set(read().queued);
      } });
      const seen = { completed: 0, terminated: 0, crashed: 0 };
      new client.Counter({ name: 'rein_check_tasks_completed_total', help: 'Offloaded check tasks a worker answered', registers: [registry], collect() {
        const counts = read();
        if (counts.completed > seen.completed) this.inc(counts.completed - seen.completed);
        seen.completed = counts.completed;
      } });
      new client.Counter({ name: 'rein_check_workers_replaced_total', help: 'Check workers replaced: terminated (a task timed out or was abandoned) or crashed', labelNames: ['reason'], registers: [registry], collect() {
        const counts = read();
        if (counts.terminated > seen.terminated) this.inc({ reason: 'terminated' }, counts.terminated - seen.terminated);
        if (counts.crashed > seen.crashed) this.inc({ reason: 'crashed' }, counts.crashed - seen.crashed);
        seen.terminated = counts.terminated;
        seen.crashed = counts.crashed;
      } });
    },
  };
}
