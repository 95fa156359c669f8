/**
 * Per-request plumbing shared by the routes: the request id, the authenticated principal, and an
 * AbortSignal that fires when the client goes away (so a generation stops instead of running on).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Response } from 'express';
import type { Principal } from '../access/api-keys';

export function requestIdOf(response: Response): string {
  return String(response.locals.requestId);
}

export function principalOf(response: Response): Principal {
  return response.locals.principal as Principal;
}

/** Aborts when the client closes the connection before the response is complete. */
export function clientAbortSignal(request: IncomingMessage, response: ServerResponse): AbortSignal {
  const controller = new AbortController();
  response.on('close', () => {
    if (!response.writableFinished) controller.abort(new Error('client disconnected'));
  });
  request.on('aborted', () => controller.abort(new Error('client aborted')));
  return controller.signal;
}
