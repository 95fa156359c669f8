/**
 * `POST /v1/check`: runs a policy's checks on text produced elsewhere — the auditing path for outputs
 * that did not come through Rein. A `block` decision is still a 200 here (nothing was generated);
 * the call is audited like a generation.
 */
import { Router, type Request, type Response } from 'express';
import { GatewayError, toGatewayError } from '../../errors/gateway-error';
import type { CheckRegistry } from '../../policy/check-registry';
import { checkText } from '../../policy/check-text';
import type { PolicyStore } from '../../policy/policy-store';
import type { PipelineDeps } from '../../pipeline/pipeline-deps';
import { validateCheckBody } from '../request-schemas';
import { clientAbortSignal, principalOf, requestIdOf } from '../request-context';
import type { RequireRole } from '../auth';

export function createCheckRouter(options: { deps: PipelineDeps; registry: CheckRegistry; policyStore: PolicyStore; requireRole: RequireRole }): Router {
  const { deps, registry, policyStore } = options;
  const router = Router();
  router.post('/v1/check', options.requireRole('check'), async (request: Request, response: Response) => {
    validateCheckBody(request.body);
    const body = request.body as { input?: string; output?: string; samples?: string[]; context?: string[]; policy?: string };
    const principal = principalOf(response);
    const requestId = requestIdOf(response);
    const started = Date.now();
    const bound = principal.policy;
    if (body.policy && bound && body.policy !== bound && !principal.roles.has('policy:write')) {
      throw new GatewayError('forbidden', `this API key is bound to policy '${bound}'; overriding it needs the policy:write role`, { param: '/policy' });
    }
    const name = body.policy ?? bound ?? deps.policies.defaultPolicy;
    const policy = policyStore.get(name);
    if (!policy) throw new GatewayError('not_found', `policy '${name}' does not exist`, { param: '/policy' });
    const input = [
      ...(body.input !== undefined ? [{ source: 'prompt', text: body.input }] : []),
      ...(body.context ?? []).map((text, index) => ({ source: `context/${index}`, role: 'context', text })),
    ];
    const output = body.output !== undefined ? [{ source: 'choices/0', text: body.output }] : undefined;
    const record = async (fields: { status: number; decision?: string | null; findings?: never[] | unknown[]; errorCode?: string | null }) =>
      deps.audit?.record(
        {
          requestId,
          time: new Date(started),
          route: '/v1/check',
          operation: 'check',
          apiKeyId: principal.authenticated ? principal.keyId : null,
          policy: { name: policy.name, revision: policy.revision },
          findings: (fields.findings ?? []) as never[],
          decision: (fields.decision ?? null) as never,
          status: fields.status,
          errorCode: (fields.errorCode ?? null) as never,
          timingsMs: { total: Date.now() - started },
          input,
          output,
        },
        policy.audit.keep,
      );
    let result;
    try {
      result = await checkText(body, policy, registry, clientAbortSignal(request, response));
    } catch (error) {
      const gatewayError = toGatewayError(error);
      await record({ status: gatewayError.status, errorCode: gatewayError.code });
      throw gatewayError;
    }
    let auditId: string | undefined;
    try {
      auditId = await record({ status: 200, decision: result.decision, findings: result.findings });
    } catch (error) {
      if (deps.config.audit.fail_mode === 'closed') throw new GatewayError('unavailable', 'the audit store is unavailable', { cause: error });
    }
    response.json({ ...result, audit_id: auditId ?? null });
  });
  return router;
}
