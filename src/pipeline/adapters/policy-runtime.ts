/**
 * Binds the policy layer (src/policy: resolved policies, the check registry, the check engine) to the
 * pipeline's PolicyRuntime interface: resolves names to revisions, runs the input and output checks,
 * adds the checks a request asks for in its `checks` field, and builds streaming filters.
 */
import type { ConstraintSpec } from '../../decoding/constraint';
import { GatewayError } from '../../errors/gateway-error';
import type { CheckRegistry } from '../../policy/check-registry';
import { consistencyOf } from '../../policy/check-text';
import { runInputChecks, runOutputChecks } from '../../policy/policy-engine';
import type { CheckEntry, Policy } from '../../policy/policy-types';
import type { InputPart, OutputCheckRequest, PolicyRuntime, ResolvedPolicyView, StreamFilter } from '../pipeline-deps';

export interface PolicySource {
  get(name: string): Policy | undefined;
  health(): { ok: boolean; detail?: string };
}

export interface StreamFilterFactory {
  (policy: Policy, registry: CheckRegistry, choice: number): StreamFilter | undefined;
}

const DEFAULT_SAMPLES = 4;
const DEFAULT_SAMPLE_TEMPERATURE = 1;

function viewOf(policy: Policy, registry: CheckRegistry): ResolvedPolicyView {
  const selfConsistency = policy.output.find((entry) => entry.check === 'self_consistency');
  const needsFullOutput = policy.output.some((entry) => {
    const info = registry.get(entry.check);
    return info?.outputCheck?.mode === 'final' || (info?.outputCheck === undefined && info?.detector === undefined);
  });
  const generation = policy.generation;
  return {
    name: policy.name,
    revision: policy.revision,
    refusal: policy.refusal,
    generation: { maxTokens: generation.max_tokens, temperature: generation.temperature, constraint: generation.constraint as ConstraintSpec | undefined },
    auditLevel: policy.audit.keep,
    needsFullOutput,
    selfConsistency: selfConsistency
      ? { samples: Number(selfConsistency.params.samples ?? DEFAULT_SAMPLES), temperature: Number(selfConsistency.params.temperature ?? DEFAULT_SAMPLE_TEMPERATURE) }
      : undefined,
    raw: policy,
  };
}

/** Entries for checks the request asks for that its policy does not already run (they flag, never block). */
function requestedEntries(policy: Policy, request: OutputCheckRequest): CheckEntry[] {
  const extra: CheckEntry[] = [];
  const requested = request.requested;
  if (!requested) return extra;
  const has = (check: string) => policy.output.some((entry) => entry.check === check);
  if (requested.selfConsistency && !has('self_consistency')) {
    const params: Record<string, unknown> = {};
    if (requested.selfConsistency.samples !== undefined) params.samples = requested.selfConsistency.samples;
    if (requested.selfConsistency.temperature !== undefined) params.temperature = requested.selfConsistency.temperature;
    if (requested.selfConsistency.variant !== undefined) params.variant = requested.selfConsistency.variant;
    const check = requested.selfConsistency.mode === 'vote' ? 'vote' : 'self_consistency';
    extra.push({ check, action: 'flag', enforcement: 'enforce', fail_mode: 'closed', threshold: 0.5, params, pointer: `/request/checks/${check}` });
  }
  if (requested.grounding && !has('grounding')) {
    extra.push({ check: 'grounding', action: 'flag', enforcement: 'enforce', fail_mode: 'closed', threshold: 0.5, params: {}, pointer: '/request/checks/grounding' });
  }
  return extra;
}

export function createPolicyRuntime(options: {
  policies: PolicySource;
  registry: CheckRegistry;
  defaultPolicy: string;
  streamFilter?: StreamFilterFactory;
}): PolicyRuntime {
  const { policies, registry } = options;
  const views = new WeakMap<Policy, ResolvedPolicyView>();
  return {
    defaultPolicy: options.defaultPolicy,
    resolve(name) {
      const policy = policies.get(name);
      if (!policy) throw new GatewayError('not_found', `policy '${name}' does not exist; GET /v1/policies lists them`, { param: '/policy' });
      let view = views.get(policy);
      if (!view) {
        view = viewOf(policy, registry);
        views.set(policy, view);
      }
      return view;
    },
    async runInput(view, parts: InputPart[], signal) {
      const policy = view.raw as Policy;
      const prompt = parts.find((part) => part.source === 'prompt')?.text;
      const messages = parts
        .filter((part) => part.source.startsWith('messages/'))
        .map((part) => ({ role: part.role as 'system' | 'user' | 'assistant' | 'tool', content: part.text }));
      const context = parts.filter((part) => part.source.startsWith('context/')).map((part) => part.text);
      const outcome = await runInputChecks(policy, { prompt, messages: messages.length ? messages : undefined, context: context.length ? context : undefined }, registry, signal);
      const sanitized = new Map<string, string>();
      if (outcome.sanitizedParts.prompt !== undefined && outcome.sanitizedParts.prompt !== prompt) sanitized.set('prompt', outcome.sanitizedParts.prompt);
      outcome.sanitizedParts.messages?.forEach((message, index) => {
        if (message.content !== messages[index]?.content) sanitized.set(`messages/${index}`, message.content);
      });
      outcome.sanitizedParts.context?.forEach((text, index) => {
        if (text !== context[index]) sanitized.set(`context/${index}`, text);
      });
      return { findings: outcome.findings, sanitized };
    },
    async runOutput(view, request, signal) {
      const policy = view.raw as Policy;
      const entries = [...policy.output, ...requestedEntries(policy, request)];
      const outcome = await runOutputChecks(
        policy,
        request.output,
        { input: request.input, samples: request.samples, sources: request.sources, drawSamples: request.drawSamples, choice: request.choice },
        registry,
        signal,
        { entries },
      );
      return { findings: outcome.findings, sanitizedOutput: outcome.sanitizedOutput, consistency: consistencyOf(outcome.findings) };
    },
    createStreamFilter: options.streamFilter ? (view, choice) => options.streamFilter!(view.raw as Policy, registry, choice) : undefined,
    health: () => policies.health(),
  };
}
