/**
 * policyMetrics: the policy layer's Prometheus metrics, created in one place so that the integrator
 * registers them on the gateway's registry (src/metrics may re-export them). Creating them twice on
 * one registry returns the existing metric instead of throwing.
 */
import { Counter, type Registry } from 'prom-client';

export interface PolicyMetrics {
  /** Policy files that failed to load on a (re)load; labelled by policy name. */
  reloadErrors: Counter<'policy'>;
}

export function policyMetrics(registry: Registry): PolicyMetrics {
  const name = 'rein_policy_reload_errors_total';
  const existing = registry.getSingleMetric(name) as Counter<'policy'> | undefined;
  const reloadErrors = existing ?? new Counter({
    name,
    help: 'Policy files that failed validation on load or reload (the previous good version stays in force)',
    labelNames: ['policy'],
    registers: [registry],
  });
  return { reloadErrors };
}
