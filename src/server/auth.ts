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

export function createAuthenticate(keys: ApiKeyRegistry): RequestHandler {
  return (request: Request, response: Response, next: NextFunction) => {
    if (!keys.enabled) {
      response.locals.principal = anonymousPrincipal();
      next();
      return;
    }
    const header = request.headers.authorization ?? '';
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) {
      next(new GatewayError('unauthorized', 'missing API key: send Authorization: Bearer <key>'));
      return;
    }
    const principal = keys.authenticate(match[1]);
    if (!principal) {
      next(new GatewayError('unauthorized', 'invalid API key'));
      return;
    }
    response.locals.principal = principal;
    next();
  };
}

export function createRequireRole(): RequireRole {
  return (role: Role) => (request: Request, response: Response, next: NextFunction) => {
    const principal = response.locals.principal as Principal | undefined;
    if (!principal || !principal.roles.has(role)) {
      next(new GatewayError('forbidden', `this API key lacks the '${role}' role`));
      return;
    }
    next();
  };
}

export interface RateLimitMiddleware {
  /** Checks the request bucket (1 unit) and that the token bucket is not in debt. */
  before: RequestHandler;
  /** Charges the tokens a finished request used. */
  chargeTokens(principal: Principal, tokens: number): Promise<void>;
}

export function createRateLimit(limiter: RateLimiter, defaults: RateLimitSettings | undefined, metrics: Metrics): RateLimitMiddleware {
  const settingsOf = (principal: Principal): RateLimitSettings | undefined => principal.rateLimit ?? defaults;
  return {
    before: async (request: Request, response: Response, next: NextFunction) => {
      const principal = response.locals.principal as Principal;
      const settings = settingsOf(principal);
      if (!settings) {
        next();
        return;
      }
      try {
        if (settings.requests_per_minute) {
          const decision = await limiter.take(`req:${principal.keyId}`, settings.requests_per_minute, 1);
          if (!decision.allowed) {
            metrics.rateLimited.inc({ key: principal.keyId });
            next(new GatewayError('rate_limited', `request rate limit of ${settings.requests_per_minute}/min exceeded`, { retryAfterSeconds: decision.retryAfterSeconds }));
            return;
          }
        }
        if (settings.tokens_per_minute) {
          const decision = await limiter.take(`tok:${principal.keyId}`, settings.tokens_per_minute, 0);
          if (!decision.allowed) {
            metrics.rateLimited.inc({ key: principal.keyId });
            next(new GatewayError('rate_limited', `token rate limit of ${settings.tokens_per_minute}/min exceeded`, { retryAfterSeconds: decision.retryAfterSeconds }));
            return;
          }
        }
        next();
      } catch (error) {
        // The limiter store is down: refuse rather than serve unlimited (fail closed).
        next(new GatewayError('unavailable', `rate-limit store unavailable: ${(error as Error).message}`, { cause: error }));
      }
    },
    chargeTokens: async (principal, tokens) => {
      const settings = settingsOf(principal);
      if (!settings?.tokens_per_minute || tokens <= 0) return;
      await limiter.charge(`tok:${principal.keyId}`, settings.tokens_per_minute, tokens);
    },
  };
}
