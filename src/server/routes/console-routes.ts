/**
 * The web console (issue 12), mounted at /console by createGateway when `config.console.enabled`:
 *   GET  /console/…                      the built single-page app (`vite build console` → dist/console),
 *                                        static files only, so the helmet CSP (`script-src 'self'`) holds
 *   POST /console/api/constraint/check   (role generate) {constraint, lexical?} → 200 {ok: true} or
 *                                        200 {ok: false, error: {code, message, line?, column?, pointer?}}
 * The check endpoint gives the playground live compile errors without generating anything (no model
 * run, no audit record): it compiles the constraint with the engine (GBNF, regex, JSON Schema, choices,
 * lexical includes that can never appear) against the 257-token byte vocabulary, under the engine's
 * default limits — the same errors /v1/generate gives, without the cost of the model's vocabulary.
 */
import fs from 'node:fs';
import path from 'node:path';
import express, { Router, type NextFunction, type Request, type Response } from 'express';
import type { Principal } from '../../access/api-keys';
import { createByteVocabulary } from '../../decoding/byte-vocabulary';
import { compileConstraint } from '../../decoding/compile-constraint';
import type { ConstraintSpec, LexicalSpec } from '../../decoding/constraint';
import { GatewayError } from '../../errors/gateway-error';

export interface ConsoleRouterOptions {
  /** Repository root (models, grammars, constraints are relative to it); default: the working directory. */
  root?: string;
  /** Folder of the built assets; default: dist/console beside this build, else ROOT/dist/console. */
  assetsDir?: string;
  /** Named grammars and constraints for the check endpoint; default ROOT/grammars and ROOT/constraints. */
  grammarsDir?: string;
  constraintsDir?: string;
}

const CONSTRAINT_TYPES = new Set(['json_schema', 'json_object', 'grammar', 'regex', 'choice']);
/** The check endpoint's own bound on the constraint it compiles (the body limit is larger). */
const MAX_CONSTRAINT_CHARS = 64 * 1024;

/** Where the built console lives: next to the compiled server (dist/src/server/routes → dist/console) or under the root. */
export function findConsoleAssets(root: string): string | undefined {
  const candidates = [path.resolve(__dirname, '..', '..', '..', 'console'), path.resolve(root, 'dist', 'console')];
  return candidates.find((candidate) => fs.existsSync(path.join(candidate, 'index.html')));
}

function checkConstraint(body: unknown, options: { grammarsDir: string; constraintsDir: string }): Record<string, unknown> {
  const constraint = (body as { constraint?: unknown } | null)?.constraint;
  if (typeof constraint !== 'object' || constraint === null || Array.isArray(constraint)) {
    throw new GatewayError('invalid_request', 'send {"constraint": {...}} as JSON', { param: '/constraint' });
  }
  const type = (constraint as { type?: unknown }).type;
  if (typeof type !== 'string' || !CONSTRAINT_TYPES.has(type)) {
    throw new GatewayError('invalid_request', `constraint type must be one of ${[...CONSTRAINT_TYPES].join(', ')}`, { param: '/constraint/type' });
  }
  const lexical = (body as { lexical?: unknown }).lexical;
  if (lexical !== undefined && (typeof lexical !== 'object' || lexical === null || Array.isArray(lexical))) {
    throw new GatewayError('invalid_request', 'lexical must be an object {include?, exclude?}', { param: '/lexical' });
  }
  if (JSON.stringify([constraint, lexical ?? null]).length > MAX_CONSTRAINT_CHARS) {
    throw new GatewayError('payload_too_large', `the constraint exceeds ${MAX_CONSTRAINT_CHARS} characters`, { param: '/constraint' });
  }
  try {
    compileConstraint(constraint as ConstraintSpec, lexical as LexicalSpec | undefined, createByteVocabulary(), options);
    return { ok: true };
  } catch (error) {
    if (!(error instanceof GatewayError)) throw error;
    if (error.code === 'internal_error') throw error;
    const details = (error.details ?? {}) as Record<string, unknown>;
    const located: Record<string, unknown> = {};
    for (const key of ['line', 'column', 'offset', 'pointer', 'keyword']) if (details[key] !== undefined) located[key] = details[key];
    return { ok: false, error: { code: error.code, message: error.message, ...(error.param !== undefined ? { param: error.param } : {}), ...located } };
  }
}

export function createConsoleRouter(options: ConsoleRouterOptions = {}): Router {
  const root = options.root ?? process.cwd();
  const grammarsDir = options.grammarsDir ?? path.resolve(root, 'grammars');
  const constraintsDir = options.constraintsDir ?? path.resolve(root, 'constraints');
  const router = Router();

  router.post('/api/constraint/check', (request: Request, response: Response) => {
    // The console router is mounted without requireRole: check the role the same way it would.
    const principal = response.locals.principal as Principal | undefined;
    if (!principal || !principal.roles.has('generate')) throw new GatewayError('forbidden', "this API key lacks the 'generate' role");
    response.setHeader('Cache-Control', 'no-store');
    response.json(checkConstraint(request.body, { grammarsDir, constraintsDir }));
  });
  router.use('/api', (request: Request, _response: Response, next: NextFunction) => {
    next(new GatewayError('not_found', `no route ${request.method} /console/api${request.path}`));
  });

  const assets = options.assetsDir ?? findConsoleAssets(root);
  if (!assets) {
    router.get(/.*/, () => {
      throw new GatewayError('not_found', 'the console is not built: run `npm run build` (it runs `vite build console`)');
    });
    return router;
  }
  const indexFile = path.join(assets, 'index.html');
  // Only index.html and assets/ are served (a stray file in the folder, e.g. from a tsc run, is not).
  // Hashed file names under assets/ never change content: cache them; index.html is always revalidated.
  router.use(
    '/assets',
    express.static(path.join(assets, 'assets'), { index: false, immutable: true, maxAge: '365d' }),
  );
  router.get(/.*/, (request: Request, response: Response, next: NextFunction) => {
    // Only extension-less paths are the app's own routes; a missing file is a 404, not the page.
    if (/\.[A-Za-z0-9]+$/.test(request.path) || !request.accepts('html')) {
      next(new GatewayError('not_found', `no console file ${request.path}`));
      return;
    }
    if (request.originalUrl === '/console') {
      // Relative asset URLs need the trailing slash.
      response.redirect(301, '/console/');
      return;
    }
    response.setHeader('Cache-Control', 'no-cache');
    response.sendFile(indexFile);
  });
  return router;
}
