/**
 * The audit read side (SPEC.md §3), role `audit:read`:
 *   GET /v1/audit?since&until&decision&policy&limit&cursor   newest first, cursor pagination
 *   GET /v1/audit/export?since&until&decision&policy          NDJSON, oldest first, streamed page by page
 *   GET /v1/audit/verify                                      200 {ok: true, records, head} | 409 {ok: false, first_bad}
 *   GET /v1/audit/:id[?proof=1]                               the record [+ RFC 6962 inclusion proof against the signed head]
 * Query parameters are validated (unknown or repeated ones too) → GatewayError('invalid_request', …, {param}).
 * The integrator mounts the router and supplies requireRole and the error envelope.
 */
import { once } from 'node:events';
import { Router, type Request, type RequestHandler, type Response } from 'express';
import { GatewayError } from '../../errors/gateway-error';
import type { Decision } from '../../safety/finding';
import { AUDIT_ID_PATTERN, type AuditFilter, type AuditStore } from '../../audit/audit-store';

export interface AuditRouterOptions {
  store: AuditStore;
  requireRole: (role: 'audit:read') => RequestHandler;
}

const DECISIONS: readonly Decision[] = ['allow', 'flag', 'sanitize', 'redact', 'block'];
const ISO_DATE = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;

function single(request: Request, name: string): string | undefined {
  const value = (request.query as Record<string, unknown>)[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new GatewayError('invalid_request', `query parameter '${name}' must be given once, as a string`, { param: name });
  return value;
}

function onlyKnown(request: Request, allowed: readonly string[]): void {
  for (const name of Object.keys(request.query as Record<string, unknown>)) {
    if (!allowed.includes(name)) throw new GatewayError('invalid_request', `unknown query parameter '${name}' (allowed: ${allowed.join(', ')})`, { param: name });
  }
}

function isoParam(request: Request, name: string): string | undefined {
  const value = single(request, name);
  if (value === undefined) return undefined;
  const date = new Date(value);
  if (!ISO_DATE.test(value) || Number.isNaN(date.getTime())) throw new GatewayError('invalid_request', `'${name}' must be an ISO 8601 date-time`, { param: name });
  return date.toISOString();
}

/** Parses the filter shared by list and export; `paged` adds limit and cursor. */
export function parseAuditQuery(request: Request, paged: boolean): AuditFilter {
  onlyKnown(request, paged ? ['since', 'until', 'decision', 'policy', 'limit', 'cursor'] : ['since', 'until', 'decision', 'policy']);
  const filter: AuditFilter = { since: isoParam(request, 'since'), until: isoParam(request, 'until') };
  const decision = single(request, 'decision');
  if (decision !== undefined) {
    if (!DECISIONS.includes(decision as Decision)) throw new GatewayError('invalid_request', `'decision' must be one of ${DECISIONS.join(', ')}`, { param: 'decision' });
    filter.decision = decision as Decision;
  }
  const policy = single(request, 'policy');
  if (policy !== undefined) {
    if (policy.length < 1 || policy.length > 128) throw new GatewayError('invalid_request', "'policy' must be 1 to 128 characters", { param: 'policy' });
    filter.policy = policy;
  }
  if (paged) {
    const limit = single(request, 'limit');
    if (limit !== undefined) {
      if (!/^\d{1,4}$/.test(limit) || Number(limit) < 1 || Number(limit) > 1000) throw new GatewayError('invalid_request', "'limit' must be an integer from 1 to 1000", { param: 'limit' });
      filter.limit = Number(limit);
    }
    const cursor = single(request, 'cursor');
    if (cursor !== undefined) {
      if (cursor.length === 0 || cursor.length > 64) throw new GatewayError('invalid_request', "'cursor' is not one this server issued", { param: 'cursor' });
      filter.cursor = cursor;
    }
  }
  if (filter.since && filter.until && filter.since > filter.until) throw new GatewayError('invalid_request', "'since' is after 'until'", { param: 'since' });
  return filter;
}

async function streamExport(store: AuditStore, filter: AuditFilter, response: Response): Promise<void> {
  let gone = false;
  response.on('close', () => {
    gone = true;
  });
  const records = store.export(filter)[Symbol.asyncIterator]();
  // Read the first record before committing to a 200, so a store failure still gets the error envelope.
  let next = await records.next();
  response.status(200);
  response.setHeader('Content-Type', 'application/x-ndjson; charset=utf-8');
  response.setHeader('Cache-Control', 'no-store');
  response.flushHeaders();
  try {
    while (!next.done && !gone) {
      if (!response.write(`${JSON.stringify(next.value)}\n`)) await Promise.race([once(response, 'drain'), once(response, 'close')]);
      next = await records.next();
    }
  } catch (error) {
    // Headers are out: all we can do is cut the stream so the client sees it incomplete (no final newline-terminated EOF).
    response.destroy(error instanceof Error ? error : new Error(String(error)));
    return;
  } finally {
    if (gone) await records.return?.();
  }
  if (!gone) response.end();
}

export function createAuditRouter(options: AuditRouterOptions): Router {
  const { store } = options;
  const router = Router();
  const canRead = options.requireRole('audit:read');

  router.get('/v1/audit', canRead, async (request: Request, response: Response) => {
    const page = await store.list(parseAuditQuery(request, true));
    response.setHeader('Cache-Control', 'no-store');
    response.json({ records: page.records, next_cursor: page.next_cursor });
  });

  router.get('/v1/audit/export', canRead, async (request: Request, response: Response) => {
    await streamExport(store, parseAuditQuery(request, false), response);
  });

  router.get('/v1/audit/verify', canRead, async (request: Request, response: Response) => {
    onlyKnown(request, []);
    const result = await store.verify();
    response.setHeader('Cache-Control', 'no-store');
    response.status(result.ok ? 200 : 409).json(result);
  });

  router.get('/v1/audit/:id', canRead, async (request: Request, response: Response) => {
    onlyKnown(request, ['proof']);
    const proof = single(request, 'proof');
    if (proof !== undefined && !['0', '1', 'true', 'false'].includes(proof)) throw new GatewayError('invalid_request', "'proof' must be 1 or 0", { param: 'proof' });
    const id = String(request.params.id);
    const record = AUDIT_ID_PATTERN.test(id) ? await store.get(id) : null;
    if (!record) throw new GatewayError('not_found', `no audit record '${id.slice(0, 80)}'`);
    response.setHeader('Cache-Control', 'no-store');
    if (proof === '1' || proof === 'true') response.json({ ...record, proof: await store.prove(id) });
    else response.json(record);
  });

  return router;
}
