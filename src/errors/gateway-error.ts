/**
 * GatewayError: the one error type that crosses stage and HTTP boundaries.
 * Its `code` is one of the closed set in SPEC.md §3 "Errors"; the HTTP status follows from the code.
 * Anything else thrown inside the gateway becomes `internal_error` (500) — never an "allow".
 */
import type { Finding } from '../safety/finding';

export const ERROR_STATUS = {
  invalid_request: 400,
  content_filter: 400,
  context_length_exceeded: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  payload_too_large: 413,
  constraint_invalid: 422,
  constraint_unsupported: 422,
  policy_invalid: 422,
  rate_limited: 429,
  internal_error: 500,
  backend_error: 502,
  unavailable: 503,
  backend_timeout: 504,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export interface GatewayErrorOptions {
  /** JSON pointer of the offending request field (OpenAI calls it `param`). */
  param?: string;
  findings?: Finding[];
  /** Extra machine-readable detail, e.g. `{line, column}` for a grammar error or `errors` for a policy. */
  details?: Record<string, unknown>;
  /** Seconds, for `rate_limited` (sent as Retry-After). */
  retryAfterSeconds?: number;
  cause?: unknown;
}

export class GatewayError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly param?: string;
  readonly findings?: Finding[];
  readonly details?: Record<string, unknown>;
  readonly retryAfterSeconds?: number;

  constructor(code: ErrorCode, message: string, options: GatewayErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GatewayError';
    this.code = code;
    this.status = ERROR_STATUS[code];
    this.param = options.param;
    this.findings = options.findings;
    this.details = options.details;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }

  /** Retrying the same request later may succeed. */
  get isRetryable(): boolean {
    return this.code === 'rate_limited' || this.code === 'unavailable' || this.code === 'backend_timeout' || this.code === 'backend_error';
  }
}

export function isGatewayError(value: unknown): value is GatewayError {
  return value instanceof GatewayError;
}

/** Wraps anything thrown into a GatewayError; unknown errors become internal_error. */
export function toGatewayError(error: unknown): GatewayError {
  if (error instanceof GatewayError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new GatewayError('internal_error', message, { cause: error });
}
