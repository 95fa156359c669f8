/**
 * The lean request path: the generation endpoints (POST /v1/chat/completions, /v1/completions,
 * /v1/generate) with a plain JSON body are served straight from node:http, without Express. Measured
 * on the shared 2-core machine, Express 5 with helmet and body-parser cost ≈ 0.7 ms of CPU per request
 * in front of a trivial backend — more than the whole gateway overhead budget of issue 11.
 *
 * It does exactly what the Express stack does for these requests, in the same order — request id,
 * the security headers helmet sets (captured from the same helmet middleware at start-up), metrics,
 * body limit and JSON parsing, authentication, draining, rate limits, the role check, the shared
 * handler (./generation-handlers.ts), the error envelope — and declines (returns false) every request
 * it does not handle in full: other routes and methods, other content types and charsets, compressed
 * bodies. Those go to Express unchanged.
 */
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { ApiKeyRegistry } from '../access/api-keys';
import { GatewayError } from '../errors/gateway-error';
import type { Logger } from '../logging/logger';
import type { PipelineDeps } from '../pipeline/pipeline-deps';
import { assertRole, authenticateHeader, type RateLimitMiddleware } from './auth';
import { answerError, bodyTooLargeError, invalidJsonError, writeJson } from './error-envelope';
import { GENERATION_ROUTES, handleGeneration, type GenerationApi } from './generation-handlers';

export interface LeanPathOptions {
  deps: PipelineDeps;
  keys: ApiKeyRegistry;
  rateLimit: RateLimitMiddleware;
  bodyLimitBytes: number;
  /** Headers every response carries (helmet's), as [name, value] pairs. */
  securityHeaders: ReadonlyArray<readonly [string, string]>;
  /** Request bookkeeping shared with the Express stack: request id, in-flight count, metrics. */
  begin(request: IncomingMessage, response: ServerResponse, route: () => string): string;
  isDraining(): boolean;
  logger: Logger;
}

const UTF8_CHARSET = /^\s*charset\s*=\s*(?:"utf-?8"|utf-?8)\s*$/i;

/** True for an uncompressed `application/json` body in UTF-8 (the only case the lean path parses). */
export function isPlainJson(headers: IncomingHttpHeaders): boolean {
  const type = headers['content-type'];
  if (type === undefined) return false;
  const semicolon = type.indexOf(';');
  const media = (semicolon < 0 ? type : type.slice(0, semicolon)).trim().toLowerCase();
  if (media !== 'application/json') return false;
  if (semicolon >= 0 && !UTF8_CHARSET.test(type.slice(semicolon + 1))) return false;
  const encoding = headers['content-encoding'];
  return encoding === undefined || encoding.trim().toLowerCase() === 'identity';
}

/**
 * An oversized body up to this many bytes past the limit is read and dropped before the 413 goes out:
 * a client still sending it would otherwise have its connection reset under it and see a broken pipe
 * instead of the answer. Beyond that, the answer goes at once and the connection closes after it.
 */
const DRAIN_BEYOND_LIMIT = 8 * 1024 * 1024;

/** Reads and parses the body as body-parser's json() would (empty body → {}, no body → undefined). */
function readJsonBody(request: IncomingMessage, response: ServerResponse, limit: number): Promise<unknown> {
  const declared = request.headers['content-length'];
  if (declared === undefined && request.headers['transfer-encoding'] === undefined) return Promise.resolve(undefined);
  const drainLimit = limit + DRAIN_BEYOND_LIMIT;
  const tooLarge = (drained: boolean) => {
    // The rest of the body is not read: close the connection after the answer.
    if (!drained) response.setHeader('Connection', 'close');
    return bodyTooLargeError(limit);
  };
  if (declared !== undefined && Number(declared) > drainLimit) return Promise.reject(tooLarge(false));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const fail = (error: GatewayError) => {
      if (settled) return;
      settled = true;
      reject(error);
    };
    request.on('data', (chunk: Buffer) => {
      if (settled) return;
      size += chunk.length;
      // Past the limit, the body is only counted (and dropped) until it ends or passes the drain limit.
      if (size > drainLimit) fail(tooLarge(false));
      else if (size <= limit) chunks.push(chunk);
    });
    const aborted = () => fail(new GatewayError('invalid_request', 'request aborted', { param: '' }));
    request.on('error', aborted);
    request.on('aborted', aborted);
    request.on('end', () => {
      if (settled) return;
      if (size > limit) {
        fail(tooLarge(true));
        return;
      }
      settled = true;
      let text = chunks.length === 1 ? chunks[0].toString('utf8') : Buffer.concat(chunks).toString('utf8');
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      if (text.length === 0) {
        resolve({});
        return;
      }
      try {
        resolve(JSON.parse(text));
      } catch (error) {
        reject(invalidJsonError((error as Error).message));
      }
    });
  });
}

/** Returns a handler that serves a request and returns true, or returns false and leaves it alone. */
export function createLeanPath(options: LeanPathOptions): (request: IncomingMessage, response: ServerResponse) => boolean {
  const { deps, keys, rateLimit, bodyLimitBytes, securityHeaders, begin, isDraining, logger } = options;

  async function serve(request: IncomingMessage, response: ServerResponse, path: string, api: GenerationApi): Promise<void> {
    const requestId = begin(request, response, () => path);
    for (const [name, value] of securityHeaders) response.setHeader(name, value);
    try {
      const body = await readJsonBody(request, response, bodyLimitBytes);
      const principal = authenticateHeader(keys, request.headers.authorization);
      if (isDraining()) throw new GatewayError('unavailable', 'the gateway is shutting down');
      await rateLimit.check(principal);
      assertRole(principal, 'generate');
      await handleGeneration(deps, api, { body, requestId, principal, request, response, sendJson: (value) => writeJson(response, 200, value) });
    } catch (error) {
      answerError(logger, path, response, requestId, error);
    }
  }

  return (request, response) => {
    if (request.method !== 'POST') return false;
    const url = request.url ?? '';
    const query = url.indexOf('?');
    const path = query < 0 ? url : url.slice(0, query);
    const api = GENERATION_ROUTES.get(path);
    if (api === undefined || !isPlainJson(request.headers)) return false;
    void serve(request, response, path, api);
    return true;
  };
}

/** The headers a (synchronous, header-setting) middleware such as helmet's sets on every response. */
export function captureHeaders(middleware: (request: never, response: never, next: (error?: unknown) => void) => void): Array<[string, string]> {
  const headers = new Map<string, [string, string]>();
  const response = {
    setHeader: (name: string, value: unknown) => headers.set(name.toLowerCase(), [name, String(value)]),
    removeHeader: (name: string) => headers.delete(name.toLowerCase()),
    getHeader: (name: string) => headers.get(name.toLowerCase())?.[1],
  };
  let called = false;
  middleware({ headers: {}, method: 'GET', url: '/' } as never, response as never, (error) => {
    if (error) throw error;
    called = true;
  });
  if (!called) throw new Error('captureHeaders: the middleware did not finish synchronously');
  return [...headers.values()];
}
