/**
 * createAuditSink(store): adapts an AuditStore to the pipeline's AuditSink (src/pipeline/pipeline-deps.ts):
 * builds the event at the policy's audit level and appends it. In sync mode the promise resolves after
 * the commit; a store failure rejects with GatewayError('unavailable') for the pipeline's fail_mode.
 */
import { buildAuditEvent, type AuditEventFields, type AuditLevel } from './audit-event';
import type { AuditStore } from './audit-store';

export interface AuditSinkAdapter {
  record(fields: AuditEventFields, level: AuditLevel): Promise<string | undefined>;
  health(): Promise<{ ok: boolean; detail?: string }>;
}

export function createAuditSink(store: AuditStore): AuditSinkAdapter {
  return {
    async record(fields, level) {
      const result = await store.append(buildAuditEvent(fields, level));
      return result.id ?? undefined;
    },
    async health() {
      const health = await store.health();
      return health.detail === undefined ? { ok: health.ok } : { ok: health.ok, detail: health.detail };
    },
  };
}
