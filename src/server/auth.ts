/**
 * Authentication and authorisation middleware (SPEC.md "Access"): with keys configured, every /v1
 * request needs `Authorization: Bearer <key>`; roles gate each route. With no keys configured the
 * header is ignored and the caller gets every role — the server then only listens on loopback unless
 * started with --allow-unauthenticated (checked at start-up, see serve).
 * Rate limits run here too: requests per minute up front; tokens per minute charged after generation.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Role } from '../config/config';
import { GatewayError } from '../errors/gateway-error';
import { anonymousPrincipal, type ApiKeyRegistry, type Principal } from '../access/api-keys';
import type { RateLimiter } from '../access/rate-limiter';
import type { RateLimitSettings } from '../config/config';
import type { Metrics } from '../metrics/metrics';

export type RequireRole = (role: Role) => RequestHandler;

/** The principal for an Authorization header value; throws GatewayError('unauthorized'). */
export function authenticateHeader(keys: ApiKeyRegistry, header: string | undefined): Principal {
  if (!keys.enabled) return anonymousPrincipal();
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  if (!match) throw new GatewayError('unauthorized', 'missing API key: send Authorization: Bearer <key>');
  const principal = keys.authenticate(match[1]);
  if (!principal) throw new GatewayError('unauthorized', 'invalid API key');
  return principal;
}

export function createAuthenticate(keys: ApiKeyRegistry): RequestHandler {
  return (request: Request, response: Response, next: NextFunction) => {
    try {
      response.locals.principal = authenticateHeader(keys, request.headers.authorization);
      next();
    } catch (error) {
      next(error);
    }
  };
}

/** Throws GatewayError('forbidden') unless the principal holds the role. */
export function assertRole(principal: Principal | undefined, role: Role): void {
  if (!principal || !principal.roles.has(role)) throw new GatewayError('forbidden', `this API key lacks the '${role}' role`);
}

export function createRequireRole(): RequireRole {
  return (role: Role) => (_request: Request, response: Response, next: NextFunction) => {
    try {
      assertRole(response.locals.principal as Principal | undefined, role);
      next();
    } catch (error) {
      next(error);
    }
  };
}

export interface RateLimitMiddleware {
  /** Checks the request bucket (1 unit) and that the token bucket is not in debt; throws GatewayError. */
  check(principal: Principal): Promise<void>;
  /** `check` as Express middleware. */
  before: RequestHandler;
  /** Charges the tokens a finished request used. */
  chargeTokens(principal: Principal, tokens: number): Promise<void>;
}

export function createRateLimit(limiter: RateLimiter, defaults: RateLimitSettings | undefined, metrics: Metrics): RateLimitMiddleware {
  const settingsOf = (principal: Principal): RateLimitSettings | undefined => principal.rateLimit ?? defaults;
  const take = async (principal: Principal, bucket: 'req' | 'tok', perMinute: number, units: number, what: string) => {
    let decision;
    try {
      decision = await limiter.take(`${bucket}:${principal.keyId}`, perMinute, units);
    } catch (error) {
      // The limiter store is down: refuse rather than serve unlimited (fail closed).
      throw new GatewayError('unavailable', `rate-limit store unavailable: ${(error as Error).message}`, { cause: error });
    }
    if (!decision.allowed) {
      metrics.rateLimited.inc({ key: principal.keyId });
      throw new GatewayError('rate_limited', `${what} rate limit of ${perMinute}/min exceeded`, { retryAfterSeconds: decision.retryAfterSeconds });
    }
  };
  const check = async (principal: Principal) => {
    const settings = settingsOf(principal);
    if (!settings) return;
    if (settings.requests_per_minute) await take(principal, 'req', settings.requests_per_minute, 1, 'request');
    if (settings.tokens_per_minute) await take(principal, 'tok', settings.tokens_per_minute, 0, 'token');
  };
  return {
    check,
    before: (_request: Request, response: Response, next: NextFunction) => {
      check(response.locals.principal as Principal).then(() => next(), next);
    },
    chargeTokens: async (principal, tokens) => {
      const settings = settingsOf(principal);
      if (!settings?.tokens_per_minute || tokens <= 0) return;
      await limiter.charge(`tok:${principal.keyId}`, settings.tokens_per_minute, tokens);
    },
  };
}
