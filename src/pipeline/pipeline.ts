/**
 * The generation pipeline — the one place where the order of the stages is written:
 *
 *   validate → resolve policy → input detectors → compile constraint → generate (masks at every step)
 *            → output checks → respond;  audit records every outcome, blocked and failed ones too.
 *
 * Validation of the body happens in the route (it depends on the API shape); everything after it is
 * here. Stages never call each other: each reads and writes the RequestContext.
 */
import type { Backend, BackendEvent, BackendRequest, FinishReason, ModelInfo } from '../backends/backend';
import type { CompiledConstraint, ConstraintSpec } from '../decoding/constraint';
import { GatewayError, toGatewayError } from '../errors/gateway-error';
import type { Principal } from '../access/api-keys';
import { decide, strongerAction, type Decision, type Finding } from '../safety/finding';
import type { GenerationRequest } from './generation-request';
import type { InputPart, PipelineDeps, ResolvedPolicyView, StreamFilter } from './pipeline-deps';
import type { AuditEventFields, AuditTextPart } from '../audit/audit-event';

export const DEFAULT_MAX_TOKENS = 256;

export interface ChoiceResult {
  index: number;
  text: string;
  finishReason: FinishReason;
  decision: Decision;
  constraintComplete?: boolean;
  completionTokens: number;
  /** The text as generated, before output redaction or refusal (for the audit; never sent to clients). */
  rawText?: string;
}

export interface GenerationResult {
  id: string;
  created: number;
  model: string;
  seed: number;
  choices: ChoiceResult[];
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
  decision: Decision;
  findings: Finding[];
  consistency?: { score: number; sentences: Array<{ text: string; score: number }> };
  policy: { name: string; revision: string };
  auditId?: string;
  timings: Record<string, number>;
}

export interface RequestContext {
  requestId: string;
  principal: Principal;
  route: string;
  request: GenerationRequest;
  signal: AbortSignal;
  startedAt: number;
  timings: Record<string, number>;
  findings: Finding[];
  policy?: ResolvedPolicyView;
  backend?: Backend;
  model?: ModelInfo;
  constraintSpec?: ConstraintSpec;
  compiled?: CompiledConstraint;
  maxTokens?: number;
  promptTokens: number;
  choices: ChoiceResult[];
  consistency?: GenerationResult['consistency'];
  originalInput?: string;
  /** Choices whose stream filter already ran the output checks (live streaming). */
  streamed?: Map<number, StreamedChoice>;
}

/** Streaming receiver: text deltas that passed the output stream filters. */
export interface GenerationSink {
  delta(choice: number, text: string): void;
}

/** A stage; one with nothing to wait for returns undefined instead of a promise (no async frame per request). */
type Stage = (deps: PipelineDeps, context: RequestContext, sink?: GenerationSink) => void | Promise<void>;

function recordStage(deps: PipelineDeps, context: RequestContext, name: string, start: number): void {
  const elapsed = performance.now() - start;
  context.timings[name] = Math.round(elapsed * 1000) / 1000;
  deps.metrics.stageDuration.observe({ stage: name }, elapsed / 1000);
}

// ---------------------------------------------------------------------------------------------- stages

const resolvePolicy: Stage = (deps, context) => {
  const { request, principal } = context;
  const bound = principal.policy;
  if (request.policy && bound && request.policy !== bound && !principal.roles.has('policy:write')) {
    throw new GatewayError('forbidden', `this API key is bound to policy '${bound}'; overriding it needs the policy:write role`, { param: '/policy' });
  }
  const name = request.policy ?? bound ?? deps.policies.defaultPolicy;
  context.policy = deps.policies.resolve(name);
  const resolved = deps.backends.resolve(request.model);
  context.backend = resolved.backend;
  context.model = resolved.model;
};

export function inputParts(request: GenerationRequest): InputPart[] {
  const parts: InputPart[] = [];
  if (request.prompt !== undefined) parts.push({ source: 'prompt', role: 'prompt', text: request.prompt });
  request.messages?.forEach((message, index) => parts.push({ source: `messages/${index}`, role: message.role, text: message.content }));
  request.context.forEach((text, index) => parts.push({ source: `context/${index}`, role: 'context', text }));
  return parts;
}

function applySanitized(request: GenerationRequest, sanitized: Map<string, string>): void {
  for (const [source, text] of sanitized) {
    if (source === 'prompt') request.prompt = text;
    else if (source.startsWith('messages/')) {
      const message = request.messages?.[Number(source.slice(9))];
      if (message) message.content = text;
    } else if (source.startsWith('context/')) {
      const index = Number(source.slice(8));
      if (index < request.context.length) request.context[index] = text;
    }
  }
}

const inputDetectors: Stage = async (deps, context) => {
  const policy = context.policy!;
  const parts = inputParts(context.request);
  context.originalInput = parts.map((part) => part.text).join('\n');
  const result = await deps.policies.runInput(policy, parts, context.signal);
  for (const finding of result.findings) finding.stage = 'input';
  context.findings.push(...result.findings);
  const decision = decide(result.findings);
  if (decision === 'block') {
    throw new GatewayError('content_filter', 'the input was blocked by policy', { findings: result.findings.filter((finding) => finding.verdict !== 'pass') });
  }
  if (decision === 'sanitize' || decision === 'redact') applySanitized(context.request, result.sanitized);
};

const compileConstraint: Stage = (deps, context) => {
  const { request } = context;
  const policy = context.policy!;
  const backend = context.backend!;
  const model = context.model!;
  const spec = request.constraint ?? policy.generation.constraint;
  context.constraintSpec = spec;
  const policyMax = policy.generation.maxTokens;
  let maxTokens = request.maxTokens ?? Math.min(DEFAULT_MAX_TOKENS, policyMax ?? DEFAULT_MAX_TOKENS);
  if (policyMax !== undefined && maxTokens > policyMax) {
    throw new GatewayError('invalid_request', `max_tokens exceeds the policy's limit of ${policyMax}`, { param: '/max_tokens' });
  }
  if (backend.countPromptTokens) {
    context.promptTokens = backend.countPromptTokens({ model: model.id, prompt: request.prompt, messages: request.messages });
    const room = model.contextLength - context.promptTokens;
    if (room <= 0 || (request.maxTokens !== undefined && request.maxTokens > room)) {
      throw new GatewayError(
        'context_length_exceeded',
        `this model's context is ${model.contextLength} tokens; the prompt has ${context.promptTokens} and max_tokens asks for ${maxTokens}`,
        { param: request.prompt !== undefined ? '/prompt' : '/messages' },
      );
    }
    maxTokens = Math.min(maxTokens, room);
  }
  context.maxTokens = maxTokens;
  if (!spec && !request.lexical) return;
  // Embedded models mask tokens with it; remote backends check their output with it (byte vocabulary).
  if (backend.vocabulary) {
    if (!deps.constraints) throw new GatewayError('constraint_unsupported', 'constrained decoding is not available in this build', { param: request.constraintParam });
    try {
      const start = performance.now();
      context.compiled = deps.constraints.compile(spec, request.lexical, backend.vocabulary(model.id));
      deps.metrics.constraintCompileDuration.observe({ kind: spec?.type ?? 'lexical' }, (performance.now() - start) / 1000);
    } catch (error) {
      const gatewayError = toGatewayError(error);
      if ((gatewayError.code === 'constraint_invalid' || gatewayError.code === 'constraint_unsupported') && gatewayError.param === undefined) {
        throw new GatewayError(gatewayError.code, gatewayError.message, { param: request.constraintParam ?? (request.lexical ? '/lexical' : undefined), details: gatewayError.details, cause: error });
      }
      throw gatewayError;
    }
  }
};

function backendRequest(context: RequestContext, overrides: Partial<BackendRequest> = {}): BackendRequest {
  const { request } = context;
  return {
    model: context.model!.id,
    prompt: request.prompt,
    messages: request.messages,
    maxTokens: context.maxTokens ?? DEFAULT_MAX_TOKENS,
    temperature: request.temperature,
    topP: request.topP,
    topK: request.topK,
    minP: request.minP,
    repetitionPenalty: request.repetitionPenalty,
    seed: request.seed,
    stop: request.stop,
    n: request.n,
    constraint: context.compiled,
    constraintSpec: context.constraintSpec,
    lexical: request.lexical,
    stream: request.stream,
    ...overrides,
  };
}

interface ChoiceAccumulator {
  text: string;
  finishReason?: FinishReason;
  completionTokens: number;
  constraintComplete?: boolean;
  filter?: StreamFilter;
}

/** What a stream filter concluded about a choice streamed live (its output checks already ran). */
interface StreamedChoice {
  emitted: string;
  findings: Finding[];
  refusal?: string;
}


const generate: Stage = async (deps, context, sink) => {
  const { request } = context;
  const policy = context.policy!;
  const backend = context.backend!;
  // Checks that need the whole output (self-consistency, grounding) buffer the stream; the response says so.
  const buffered = policy.needsFullOutput || request.checks?.selfConsistency !== undefined || request.checks?.grounding === true;
  const accumulators: ChoiceAccumulator[] = [];
  for (let index = 0; index < request.n; index++) {
    const filter = sink && !buffered ? deps.policies.createStreamFilter?.(policy, index) : undefined;
    accumulators.push({ text: '', completionTokens: 0, filter });
  }
  const streamLive = sink !== undefined && !buffered;
  if (sink && buffered) context.timings.stream_buffered = 1;
  const startedAt = performance.now();
  let firstToken = true;
  for await (const event of backend.generate(backendRequest(context), context.signal) as AsyncIterable<BackendEvent>) {
    if (event.type === 'prompt-tokens') {
      context.promptTokens = event.count;
    } else if (event.type === 'token-delta') {
      if (firstToken) {
        context.timings.time_to_first_token = Math.round((performance.now() - startedAt) * 1000) / 1000;
        firstToken = false;
      }
      const accumulator = accumulators[event.choice];
      accumulator.text += event.text;
      if (streamLive) {
        const safe = accumulator.filter ? accumulator.filter.push(event.text) : event.text;
        if (safe) sink!.delta(event.choice, safe);
      }
    } else if (event.type === 'choice-end') {
      const accumulator = accumulators[event.choice];
      accumulator.finishReason = event.finishReason;
      accumulator.completionTokens = event.completionTokens;
      accumulator.constraintComplete = event.constraintComplete;
    }
  }
  if (context.signal.aborted) throw new GatewayError('invalid_request', 'the client went away', { cause: context.signal.reason });
  context.choices = accumulators.map((accumulator, index) => ({
    index,
    text: accumulator.text,
    finishReason: accumulator.finishReason ?? 'length',
    decision: 'allow',
    constraintComplete: accumulator.constraintComplete,
    completionTokens: accumulator.completionTokens,
  }));
  // Stream filters flush what they held back (and ran the output checks on the whole output).
  if (streamLive) {
    const streamed = new Map<number, StreamedChoice>();
    await Promise.all(
      accumulators.map(async (accumulator, index) => {
        if (!accumulator.filter) return;
        const flushed = await accumulator.filter.end();
        if (flushed.text && !flushed.refusal) sink!.delta(index, flushed.text);
        streamed.set(index, { emitted: flushed.emitted, findings: flushed.findings, refusal: flushed.refusal });
      }),
    );
    context.streamed = streamed;
  }
  const model = context.model!.id;
  deps.metrics.promptTokens.inc({ model }, context.promptTokens);
  deps.metrics.tokensGenerated.inc({ model }, context.choices.reduce((total, choice) => total + choice.completionTokens, 0));
};

/** Draws extra samples of the same request (self-consistency); seeds continue after the n choices. */
function sampler(context: RequestContext): (count: number, temperature: number) => Promise<string[]> {
  let nextSeed = context.request.seed + context.request.n;
  return async (count, temperature) => {
    const texts: string[] = Array.from({ length: count }, () => '');
    const seed = nextSeed;
    nextSeed += count;
    const request = backendRequest(context, { n: count, temperature, seed, stream: false });
    for await (const event of context.backend!.generate(request, context.signal)) {
      if (event.type === 'token-delta') texts[event.choice] += event.text;
    }
    if (context.signal.aborted) throw new Error('aborted while drawing samples');
    return texts;
  };
}

const outputChecks: Stage = async (deps, context) => {
  const policy = context.policy!;
  const { request } = context;
  const drawSamples = sampler(context);
  const streamed = context.streamed;
  const results = await Promise.all(
    context.choices.map((choice) => {
      const done = streamed?.get(choice.index);
      if (done) return { findings: done.findings, sanitizedOutput: done.refusal === undefined ? done.emitted : undefined, consistency: undefined };
      return deps.policies.runOutput(
        policy,
        {
          output: choice.text,
          choice: choice.index,
          input: context.originalInput,
          sources: request.context,
          drawSamples,
          requested: request.checks
            ? { selfConsistency: request.checks.selfConsistency, grounding: request.checks.grounding }
            : undefined,
        },
        context.signal,
      );
    }),
  );
  results.forEach((result, index) => {
    const choice = context.choices[index];
    choice.rawText = choice.text;
    const findings = result.findings.map((finding) => ({ ...finding, stage: 'output' as const, choice: index }));
    context.findings.push(...findings);
    const choiceFindings = context.findings.filter((finding) => finding.stage === 'output' && finding.choice === index);
    const decision = decide(choiceFindings);
    choice.decision = decision;
    if (decision === 'block') {
      choice.text = policy.refusal;
      choice.finishReason = 'content_filter';
    } else if ((decision === 'redact' || decision === 'sanitize') && result.sanitizedOutput !== undefined) {
      choice.text = result.sanitizedOutput;
    }
    if (index === 0 && result.consistency) context.consistency = result.consistency;
  });
  // An independent post-check: a complete constrained output must satisfy its constraint.
  const spec = context.constraintSpec;
  if (spec && deps.constraints?.validateOutput) {
    for (const choice of context.choices) {
      if (choice.finishReason !== 'stop' || choice.decision === 'block' || choice.constraintComplete === false) continue;
      const verdict = deps.constraints.validateOutput(spec, choice.text);
      if (!verdict.ok) {
        throw new GatewayError('internal_error', `constrained output failed its post-check: ${verdict.error ?? 'mismatch'}`);
      }
    }
  }
};

// ---------------------------------------------------------------------------------------- the pipeline

/** The order of the stages. `validate` happened in the route; `respond` is the route writing the result. */
const STAGES: Array<[string, Stage]> = [
  ['resolve_policy', resolvePolicy],
  ['input_detectors', inputDetectors],
  ['compile_constraint', compileConstraint],
  ['generate', generate],
  ['output_checks', outputChecks],
];

function resultOf(context: RequestContext): GenerationResult {
  const completionTokens = context.choices.reduce((total, choice) => total + choice.completionTokens, 0);
  let decision: Decision = decide(context.findings.filter((finding) => finding.stage === 'input'));
  for (const choice of context.choices) decision = strongerAction(decision, choice.decision);
  return {
    id: `gen_${context.requestId}`,
    created: Math.floor(context.startedAt / 1000),
    model: context.model?.id ?? context.request.model ?? '',
    seed: context.request.seed,
    choices: context.choices,
    usage: { prompt_tokens: context.promptTokens, completion_tokens: completionTokens, total_tokens: context.promptTokens + completionTokens },
    decision,
    findings: context.findings,
    consistency: context.consistency,
    policy: { name: context.policy?.name ?? '', revision: context.policy?.revision ?? '' },
    timings: context.timings,
  };
}

/** The audit event's fields for this request (the audit store adds chain fields and applies the level). */
export function auditFields(context: RequestContext, result: GenerationResult | undefined, error: GatewayError | undefined): AuditEventFields {
  const { request } = context;
  const input: AuditTextPart[] = inputParts(request).map((part) => ({ source: part.source, text: part.text, ...(part.role === 'prompt' ? {} : { role: part.role }) }));
  return {
    requestId: context.requestId,
    time: new Date(context.startedAt),
    route: context.route,
    operation: request.api === 'chat' ? 'chat' : 'text_completion',
    apiKeyId: context.principal.authenticated ? context.principal.keyId : null,
    model: request.model ?? context.model?.id,
    responseModel: context.model?.id,
    backend: context.backend?.id,
    decoding: {
      temperature: request.temperature,
      topP: request.topP,
      topK: request.topK,
      minP: request.minP,
      repetitionPenalty: request.repetitionPenalty,
      maxTokens: context.maxTokens ?? request.maxTokens,
      n: request.n,
      stop: request.stop,
      seed: request.seed,
      stream: request.stream,
    },
    constraint: context.constraintSpec || context.compiled ? { type: context.constraintSpec?.type ?? 'lexical', hash: context.compiled?.key ?? '' } : null,
    policy: context.policy ? { name: context.policy.name, revision: context.policy.revision } : null,
    findings: context.findings,
    decision: result?.decision ?? (error?.code === 'content_filter' ? 'block' : null),
    status: error ? error.status : 200,
    errorCode: error?.code ?? null,
    timingsMs: context.timings,
    usage: { inputTokens: context.promptTokens, outputTokens: result?.usage.completion_tokens ?? 0 },
    finishReasons: result?.choices.map((choice) => choice.finishReason),
    input,
    output: result?.choices.map((choice) => ({ source: `choices/${choice.index}`, text: choice.rawText ?? choice.text })),
    replay: { api: request.api, constraint: request.constraint, lexical: request.lexical },
  };
}

async function recordAudit(deps: PipelineDeps, context: RequestContext, result: GenerationResult | undefined, error: GatewayError | undefined): Promise<string | undefined> {
  if (!deps.audit) return undefined;
  const start = performance.now();
  try {
    return await deps.audit.record(auditFields(context, result, error), context.policy?.auditLevel ?? 'full');
  } catch (auditError) {
    deps.logger.error('audit record failed', { request_id: context.requestId, error: auditError });
    if (deps.config.audit.fail_mode === 'closed') {
      throw new GatewayError('unavailable', 'the audit store is unavailable; requests are refused until it is back (audit.fail_mode: closed)', { cause: auditError });
    }
    return undefined;
  } finally {
    deps.metrics.auditAppendDuration.observe((performance.now() - start) / 1000);
  }
}

export function createRequestContext(fields: { requestId: string; principal: Principal; route: string; request: GenerationRequest; signal: AbortSignal }): RequestContext {
  return { ...fields, startedAt: Date.now(), timings: {}, findings: [], promptTokens: 0, choices: [] };
}

/**
 * Runs one generation through every stage. Throws a GatewayError (already audited) on failure;
 * on success returns the result, audited before it is returned (unless audit.mode is async).
 */
export async function runGeneration(deps: PipelineDeps, context: RequestContext, sink?: GenerationSink): Promise<GenerationResult> {
  let result: GenerationResult | undefined;
  try {
    for (const [name, stage] of STAGES) {
      if (context.signal.aborted) throw new GatewayError('invalid_request', 'the client went away');
      const start = performance.now();
      try {
        const pending = stage(deps, context, sink);
        if (pending) await pending;
      } finally {
        recordStage(deps, context, name, start);
      }
    }
    result = resultOf(context);
  } catch (error) {
    // A client that went away aborts the backend (an AbortError): record it as such, not as a server fault.
    const gatewayError = context.signal.aborted && !(error instanceof GatewayError) ? new GatewayError('invalid_request', 'the client closed the connection before the response was complete', { cause: error }) : toGatewayError(error);
    if (gatewayError.code === 'internal_error') deps.logger.error('generation failed', { request_id: context.requestId, error });
    for (const finding of context.findings) deps.metrics.findings.inc({ check: finding.check, verdict: finding.verdict });
    deps.metrics.decisions.inc({ decision: gatewayError.code === 'content_filter' ? 'block' : 'error' });
    await recordAudit(deps, context, undefined, gatewayError);
    throw gatewayError;
  }
  for (const finding of context.findings) deps.metrics.findings.inc({ check: finding.check, verdict: finding.verdict });
  deps.metrics.decisions.inc({ decision: result.decision });
  result.auditId = await recordAudit(deps, context, result, undefined);
  if (deps.chargeTokens) {
    await deps.chargeTokens(context.principal, result.usage.total_tokens).catch((error: unknown) => {
      deps.logger.warn('could not charge tokens to the rate limit', { request_id: context.requestId, error });
    });
  }
  return result;
}
