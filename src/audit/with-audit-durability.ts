/**
 * Durability modes around an AuditStore.
 *   sync  (default): append resolves after the commit; the pipeline awaits it before responding.
 *   async: append puts the event in a bounded in-memory queue and resolves at once; one writer drains
 *          it in order. The loss window is the queue (at most `queueSize` records, lost if the process
 *          dies); a full queue or a failed write drops the record and counts it (rein_audit_dropped_total).
 * fail_mode (sync only — async never fails the request): closed (default) → append rejects with
 * GatewayError('unavailable') and the caller answers 503; open → the failure is logged, counted as a
 * drop, and append resolves with seq null.
 */
import type { AuditEvent } from './audit-event';
import { newAuditId, type AuditAppendResult, type AuditHealth, type AuditStore } from './audit-store';

/** A prom-client Counter (anything with inc()) or a callback; called once per lost record. */
export type AuditDropSink = { inc(value?: number): void } | ((reason: string) => void);

export interface AuditDurabilityOptions {
  mode?: 'sync' | 'async';
  failMode?: 'closed' | 'open';
  /** Async queue bound (default 10000 records). */
  queueSize?: number;
  dropped?: AuditDropSink;
  logger?: { warn(message: string, fields?: Record<string, unknown>): void; error(message: string, fields?: Record<string, unknown>): void };
}

function countDrop(sink: AuditDropSink | undefined, reason: string): void {
  if (!sink) return;
  if (typeof sink === 'function') sink(reason);
  else sink.inc(1);
}

export function withAuditDurability(store: AuditStore, options: AuditDurabilityOptions = {}): AuditStore {
  const mode = options.mode ?? 'sync';
  const failMode = options.failMode ?? 'closed';
  if (mode === 'sync') {
    if (failMode === 'closed') return store;
    return {
      ...store,
      async append(event) {
        try {
          return await store.append(event);
        } catch (error) {
          countDrop(options.dropped, 'store_error');
          options.logger?.error('audit append failed; fail_mode open: request continues unaudited', { error: error instanceof Error ? error.message : String(error) });
          return { id: null, seq: null };
        }
      },
      async health(): Promise<AuditHealth> {
        return store.health();
      },
    };
  }

  const queueSize = options.queueSize ?? 10000;
  const queue: Array<{ event: AuditEvent; id: string }> = [];
  let draining: Promise<void> | null = null;
  let closed = false;

  async function drain(): Promise<void> {
    while (queue.length > 0) {
      const item = queue.shift()!;
      try {
        await store.append(item.event, { id: item.id });
      } catch (error) {
        countDrop(options.dropped, 'store_error');
        options.logger?.error('audit append failed in async mode; record dropped', { id: item.id, error: error instanceof Error ? error.message : String(error) });
      }
    }
  }

  function kick(): void {
    if (draining) return;
    draining = drain().finally(() => {
      draining = null;
      if (queue.length > 0) kick();
    });
  }

  return {
    ...store,
    async append(event: AuditEvent): Promise<AuditAppendResult> {
      if (closed || queue.length >= queueSize) {
        countDrop(options.dropped, closed ? 'closed' : 'queue_full');
        options.logger?.warn(closed ? 'audit store closed; record dropped' : 'audit queue full; record dropped', { queue_size: queueSize });
        return { id: null, seq: null };
      }
      // The id is fixed now, so the response can carry it before the record is written.
      const id = newAuditId();
      queue.push({ event, id });
      kick();
      return { id, seq: null };
    },
    async health(): Promise<AuditHealth> {
      const inner = await store.health();
      return { ...inner, mode: 'async', queued: queue.length };
    },
    async close(): Promise<void> {
      closed = true;
      while (draining) await draining;
      await store.close();
    },
  };
}
