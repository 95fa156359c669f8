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

/**
 * Aborts when the client closes the connection before the response is complete. The response's
 * 'close' covers every way a client leaves (it fires when the socket closes, also while the request
 * body is still arriving), so one listener is enough.
 */
export function clientAbortSignal(request: IncomingMessage, response: ServerResponse): AbortSignal {
  const controller = new AbortController();
  response.once('close', () => {
    if (!response.writableFinished) controller.abort(new Error(request.complete ? 'client disconnected' : 'client aborted'));
  });
  return controller.signal;
}
