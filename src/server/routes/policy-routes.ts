/**
 * The policy authoring API (SPEC.md §3):
 *   GET  /v1/policies                  (policy:read)  loaded policies, and files that fail to load
 *   GET  /v1/policies/:name            (policy:read)  the resolved policy, its revision and source text
 *   PUT  /v1/policies/:name            (policy:write) JSON or YAML body; validated, written atomically, hot-reloaded
 *   POST /v1/policies/validate         (policy:read)  JSON or YAML body → 200 {valid, revision} | 422 policy_invalid
 *   POST /v1/policies/:name/test       (policy:read)  body {cases:[…]} (JSON or YAML) or none = the stored NAME.test.yaml
 * Validation failures throw GatewayError('policy_invalid', …, {details: {errors: [{pointer, line?, message}]}}).
 * The integrator mounts the router and supplies body parsing (request.body: parsed JSON for
 * application/json, a string for application/yaml and text/*), authentication and the error envelope.
 */
import { Router, type Request, type RequestHandler, type Response } from 'express';
import { GatewayError } from '../../errors/gateway-error';
import { clientAbortSignal } from '../request-context';
import type { CheckRegistry } from '../../policy/check-registry';
import { parsePolicyText } from '../../policy/parse-policy-text';
import { POLICY_NAME_PATTERN, type PolicyStore } from '../../policy/policy-store';
import { parseTestCasesText, runPolicyTests, validateTestCases, type PolicyTestCase } from '../../policy/policy-test-runner';
import type { PolicyValidationError } from '../../policy/policy-types';

export interface PolicyRouterDeps {
  store: PolicyStore;
  registry: CheckRegistry;
  requireRole: (role: 'policy:read' | 'policy:write') => RequestHandler;
}

function invalid(message: string, errors: PolicyValidationError[]): GatewayError {
  return new GatewayError('policy_invalid', message, { details: { errors } });
}

/** The policy text of a request body: YAML/JSON text as sent, or a parsed JSON object re-serialised. */
function bodyText(request: Request): string {
  const body: unknown = request.body;
  if (typeof body === 'string') {
    if (body.trim().length === 0) throw new GatewayError('invalid_request', 'the request body is empty: send a policy as JSON or YAML');
    return body;
  }
  if (typeof body === 'object' && body !== null && !Array.isArray(body) && Object.keys(body).length > 0) return JSON.stringify(body, null, 2);
  throw new GatewayError('invalid_request', 'send a policy as a JSON object (application/json) or YAML text (application/yaml)');
}

function nameParam(request: Request): string {
  const name = String(request.params.name);
  if (!POLICY_NAME_PATTERN.test(name)) throw new GatewayError('invalid_request', `policy name must match ${POLICY_NAME_PATTERN}`, { param: '/name' });
  return name;
}

export function createPolicyRouter(deps: PolicyRouterDeps): Router {
  const { store, registry } = deps;
  const router = Router();

  router.get('/v1/policies', deps.requireRole('policy:read'), (_request: Request, response: Response) => {
    response.json({
      policies: store.list(),
      errors: store.errors().map((error) => ({ name: error.name, file: error.file, kept_previous: error.keptPrevious, errors: error.errors })),
    });
  });

  router.post('/v1/policies/validate', deps.requireRole('policy:read'), (request: Request, response: Response) => {
    const text = bodyText(request);
    const parsed = parsePolicyText(text);
    if (!parsed.ok) throw invalid('the policy is not valid YAML or JSON', parsed.errors);
    const declared = (parsed.parsed.value as { name?: unknown } | null)?.name;
    const name = typeof declared === 'string' && POLICY_NAME_PATTERN.test(declared) ? declared : 'untitled';
    const result = store.validate(name, text);
    if (!result.ok) throw invalid(`the policy is invalid: ${result.errors[0]?.message ?? 'unknown error'}`, result.errors);
    response.json({ valid: true, name, revision: result.policy.revision, policy: result.policy.document });
  });

  router.get('/v1/policies/:name', deps.requireRole('policy:read'), (request: Request, response: Response) => {
    const name = nameParam(request);
    const policy = store.get(name);
    if (!policy) throw new GatewayError('not_found', `policy '${name}' does not exist`, { param: '/name' });
    const loadError = store.errors().find((error) => error.name === name);
    response.json({
      name: policy.name,
      revision: policy.revision,
      ...(policy.description ? { description: policy.description } : {}),
      extends: policy.ancestry[0] ?? null,
      policy: policy.document,
      source: store.source(name)?.text ?? null,
      ...(loadError ? { load_errors: loadError.errors } : {}),
    });
  });

  router.put('/v1/policies/:name', deps.requireRole('policy:write'), async (request: Request, response: Response) => {
    const name = nameParam(request);
    const existed = store.get(name) !== undefined;
    const policy = await store.put(name, bodyText(request));
    response.status(existed ? 200 : 201).json({ name: policy.name, revision: policy.revision, created: !existed });
  });

  router.post('/v1/policies/:name/test', deps.requireRole('policy:read'), async (request: Request, response: Response) => {
    const name = nameParam(request);
    const policy = store.get(name);
    if (!policy) throw new GatewayError('not_found', `policy '${name}' does not exist`, { param: '/name' });
    const body: unknown = request.body;
    let cases: PolicyTestCase[];
    const empty = body === undefined || body === null || (typeof body === 'string' && body.trim() === '') ||
      (typeof body === 'object' && !Array.isArray(body) && Object.keys(body as object).length === 0);
    if (empty) {
      const text = store.testCasesText(name);
      if (text === undefined) throw new GatewayError('not_found', `policy '${name}' has no stored test cases (${name}.test.yaml); send {cases: [...]}`);
      const parsed = parseTestCasesText(text);
      if (!parsed.ok) throw invalid(`${name}.test.yaml is invalid`, parsed.errors);
      cases = parsed.cases;
    } else {
      const parsed = typeof body === 'string' ? parseTestCasesText(body) : validateTestCases(body);
      if (!parsed.ok) throw new GatewayError('invalid_request', `invalid test cases: ${parsed.errors[0]?.pointer || '/'}: ${parsed.errors[0]?.message}`, { param: parsed.errors[0]?.pointer, details: { errors: parsed.errors } });
      cases = parsed.cases;
    }
    const runQuery = request.query.run;
    if (runQuery !== undefined && typeof runQuery !== 'string') throw new GatewayError('invalid_request', "query parameter 'run' must be given once", { param: 'run' });
    const signal = clientAbortSignal(request, response);
    let report;
    try {
      report = await runPolicyTests(cases, policy, registry, { run: runQuery, signal });
    } catch (error) {
      if (error instanceof GatewayError && error.code !== 'internal_error') {
        throw new GatewayError('invalid_request', `run: ${error.message}`, { param: 'run' });
      }
      throw error;
    }
    response.json(report);
  });

  return router;
}
