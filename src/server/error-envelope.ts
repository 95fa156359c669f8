/**
 * The error envelope of SPEC.md §3: `{error: {code, message, request_id, param?, findings?}}`,
 * and the Express error middleware that turns anything thrown into it. Unknown errors are logged
 * with their stack and answered as internal_error without internals.
 */
import type { ServerResponse } from 'node:http';
import type { ErrorRequestHandler } from 'express';
import { GatewayError, toGatewayError } from '../errors/gateway-error';
import type { Logger } from '../logging/logger';

export function errorBody(error: GatewayError, requestId: string): Record<string, unknown> {
  const body: Record<string, unknown> = { code: error.code, message: error.message, request_id: requestId };
  if (error.param !== undefined) body.param = error.param;
  if (error.findings !== undefined) body.findings = error.findings;
  if (error.details !== undefined) Object.assign(body, error.details);
  // OpenAI SDKs read error.type as well.
  body.type = error.code;
  return { error: body };
}

/** Writes `body` as JSON with the given status (what Express's res.status().json() sends, minus its overhead). */
export function writeJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.statusCode = status;
  response.setHeader('Content-Type', 'application/json; charset=utf-8');
  response.setHeader('Content-Length', Buffer.byteLength(text));
  response.end(text);
}

export function sendError(response: ServerResponse, error: GatewayError, requestId: string): void {
  if (error.retryAfterSeconds !== undefined) response.setHeader('Retry-After', String(Math.max(1, Math.ceil(error.retryAfterSeconds))));
  writeJson(response, error.status, errorBody(error, requestId));
}

/** A body over `server.body_limit_bytes` (body-parser's and the lean path's wording, one place). */
export function bodyTooLargeError(limit: number | string): GatewayError {
  return new GatewayError('payload_too_large', `request body exceeds the limit of ${limit} bytes`, { param: '' });
}

/** A body that is not JSON; `detail` is JSON.parse's message. */
export function invalidJsonError(detail: string): GatewayError {
  return new GatewayError('invalid_request', `request body is not valid JSON: ${detail}`.trim(), { param: '' });
}

/** Maps body-parser and express errors (bad JSON, too large) to our codes. */
function fromFrameworkError(error: unknown): GatewayError | undefined {
  const candidate = error as { type?: string; status?: number; message?: string; limit?: number };
  if (candidate?.type === 'entity.too.large' || candidate?.status === 413) {
    return bodyTooLargeError(candidate.limit ?? 'the configured');
  }
  if (candidate?.type === 'entity.parse.failed') {
    return invalidJsonError(candidate.message ?? '');
  }
  if (candidate?.type === 'encoding.unsupported' || candidate?.type === 'charset.unsupported') {
    return new GatewayError('invalid_request', candidate.message ?? 'unsupported encoding', { param: '' });
  }
  return undefined;
}

/** Answers `error` in the envelope (or just ends a response that has already started). */
export function answerError(logger: Logger, path: string, response: ServerResponse, requestId: string, error: unknown): void {
  const gatewayError = fromFrameworkError(error) ?? toGatewayError(error);
  if (gatewayError.code === 'internal_error') {
    logger.error('unhandled error', { request_id: requestId, path, error });
  }
  if (response.headersSent) {
    response.end();
    return;
  }
  sendError(response, gatewayError, requestId);
}

export function createErrorHandler(logger: Logger): ErrorRequestHandler {
  return (error, request, response, _next) => {
    answerError(logger, request.path, response, String(response.locals.requestId ?? ''), error);
  };
}
