/**
 * GenerationRequest: the one normalised form of a generation, whichever API it came from
 * (native `/v1/generate`, OpenAI chat or completions). Translating the OpenAI constraint forms
 * (`response_format`, vLLM `structured_outputs`, the older `guided_*`) happens here, once.
 */
import crypto from 'node:crypto';
import type { ChatMessage } from '../backends/backend';
import type { ConstraintSpec, LexicalSpec } from '../decoding/constraint';
import { GatewayError } from '../errors/gateway-error';
import type { ReinConfig } from '../config/config';
import { parseJson } from '../util/parse-json';

export type ApiKind = 'native' | 'chat' | 'completions';

export interface SelfConsistencyRequest {
  samples?: number;
  temperature?: number;
  variant?: string;
  mode?: 'score' | 'vote';
}

export interface GenerationRequest {
  api: ApiKind;
  /** undefined = the default model. */
  model?: string;
  prompt?: string;
  messages?: ChatMessage[];
  maxTokens?: number;
  temperature: number;
  topP: number;
  topK: number;
  minP: number;
  repetitionPenalty: number;
  seed: number;
  /** true when the caller chose the seed. */
  seedGiven: boolean;
  n: number;
  stop: string[];
  stream: boolean;
  constraint?: ConstraintSpec;
  /** JSON pointer of the field the constraint came from, for error messages. */
  constraintParam?: string;
  lexical?: LexicalSpec;
  policy?: string;
  context: string[];
  checks?: { selfConsistency?: SelfConsistencyRequest; grounding?: boolean };
  /** OpenAI `stream_options.include_usage`. */
  includeUsage?: boolean;
}

type Body = Record<string, any>;

export function drawSeed(): number {
  return crypto.randomInt(0, 2 ** 31);
}

function normaliseStop(stop: unknown): string[] {
  if (stop === undefined || stop === null) return [];
  return typeof stop === 'string' ? [stop] : (stop as string[]);
}

function normaliseMessages(messages: Body[]): ChatMessage[] {
  return messages.map((message) => ({
    role: message.role === 'developer' ? 'system' : message.role,
    content: typeof message.content === 'string' ? message.content : (message.content as Array<{ text: string }>).map((part) => part.text).join(''),
    ...(message.name ? { name: message.name } : {}),
  }));
}

function normaliseChecks(checks: Body | undefined): GenerationRequest['checks'] {
  if (!checks) return undefined;
  const selfConsistency = checks.self_consistency === true ? {} : checks.self_consistency === false ? undefined : checks.self_consistency;
  return { selfConsistency, grounding: checks.grounding };
}

function enforceLimits(request: GenerationRequest, config: ReinConfig): void {
  const limits = config.limits;
  if (request.maxTokens !== undefined && request.maxTokens > limits.max_tokens) {
    throw new GatewayError('invalid_request', `max_tokens must be at most ${limits.max_tokens}`, { param: '/max_tokens' });
  }
  if (request.n > limits.max_n) throw new GatewayError('invalid_request', `n must be at most ${limits.max_n}`, { param: '/n' });
  if (request.stop.length > limits.max_stop_sequences) {
    throw new GatewayError('invalid_request', `at most ${limits.max_stop_sequences} stop sequences`, { param: '/stop' });
  }
  const promptChars = (request.prompt?.length ?? 0) + (request.messages ?? []).reduce((total, message) => total + message.content.length, 0);
  if (promptChars > limits.max_prompt_chars) {
    throw new GatewayError('context_length_exceeded', `the prompt has ${promptChars} characters; the limit is ${limits.max_prompt_chars}`, {
      param: request.prompt !== undefined ? '/prompt' : '/messages',
    });
  }
  if ((request.messages?.length ?? 0) > limits.max_messages) {
    throw new GatewayError('invalid_request', `at most ${limits.max_messages} messages`, { param: '/messages' });
  }
  if (request.context.length > limits.max_context_documents) {
    throw new GatewayError('invalid_request', `at most ${limits.max_context_documents} context documents`, { param: '/context' });
  }
}

function sampling(body: Body): Pick<GenerationRequest, 'temperature' | 'topP' | 'topK' | 'minP' | 'repetitionPenalty' | 'seed' | 'seedGiven' | 'n' | 'stop' | 'stream'> {
  return {
    temperature: body.temperature ?? 1,
    topP: body.top_p ?? 1,
    topK: body.top_k ?? 0,
    minP: body.min_p ?? 0,
    repetitionPenalty: body.repetition_penalty ?? 1,
    seed: body.seed ?? drawSeed(),
    seedGiven: body.seed !== undefined,
    n: body.n ?? 1,
    stop: normaliseStop(body.stop),
    stream: body.stream === true,
  };
}

/** From a validated `/v1/generate` body. */
export function fromNativeBody(body: Body, config: ReinConfig): GenerationRequest {
  const request: GenerationRequest = {
    api: 'native',
    model: body.model,
    prompt: body.prompt,
    messages: body.messages ? normaliseMessages(body.messages) : undefined,
    maxTokens: body.max_tokens,
    ...sampling(body),
    constraint: body.constraint,
    constraintParam: body.constraint ? '/constraint' : undefined,
    lexical: body.lexical,
    policy: body.policy,
    context: body.context ?? [],
    checks: normaliseChecks(body.checks),
  };
  enforceLimits(request, config);
  return request;
}

function jsonSchemaFrom(value: unknown, param: string): ConstraintSpec {
  if (typeof value === 'string') {
    const parsed = parseJson(value);
    if (!parsed.ok) throw new GatewayError('constraint_invalid', `the JSON Schema is not valid JSON: ${parsed.error}`, { param });
    return { type: 'json_schema', schema: parsed.value };
  }
  return { type: 'json_schema', schema: value };
}

/** The constraint of an OpenAI-style body: at most one of the accepted forms. */
function openAiConstraint(body: Body): { spec?: ConstraintSpec; param?: string } {
  const found: Array<{ spec: ConstraintSpec; param: string }> = [];
  const format = body.response_format;
  if (format?.type === 'json_object') found.push({ spec: { type: 'json_object' }, param: '/response_format' });
  if (format?.type === 'json_schema') {
    const schema = format.json_schema?.schema ?? {};
    found.push({ spec: { type: 'json_schema', schema }, param: '/response_format/json_schema/schema' });
  }
  const structured = body.structured_outputs;
  if (structured) {
    if (structured.json !== undefined) found.push({ spec: jsonSchemaFrom(structured.json, '/structured_outputs/json'), param: '/structured_outputs/json' });
    if (structured.regex !== undefined) found.push({ spec: { type: 'regex', pattern: structured.regex }, param: '/structured_outputs/regex' });
    if (structured.choice !== undefined) found.push({ spec: { type: 'choice', choices: structured.choice }, param: '/structured_outputs/choice' });
    if (structured.grammar !== undefined) found.push({ spec: { type: 'grammar', grammar: structured.grammar }, param: '/structured_outputs/grammar' });
  }
  if (body.guided_json !== undefined) found.push({ spec: jsonSchemaFrom(body.guided_json, '/guided_json'), param: '/guided_json' });
  if (body.guided_regex !== undefined) found.push({ spec: { type: 'regex', pattern: body.guided_regex }, param: '/guided_regex' });
  if (body.guided_choice !== undefined) found.push({ spec: { type: 'choice', choices: body.guided_choice }, param: '/guided_choice' });
  if (body.guided_grammar !== undefined) found.push({ spec: { type: 'grammar', grammar: body.guided_grammar }, param: '/guided_grammar' });
  if (found.length > 1) {
    throw new GatewayError('invalid_request', `only one constraint may be given; found ${found.map((entry) => entry.param).join(', ')}`, { param: found[1].param });
  }
  return found.length === 1 ? { spec: found[0].spec, param: found[0].param } : {};
}

/** From a validated `/v1/chat/completions` or `/v1/completions` body. */
export function fromOpenAiBody(body: Body, api: 'chat' | 'completions', config: ReinConfig): GenerationRequest {
  const constraint = openAiConstraint(body);
  const prompt = api === 'completions' ? (Array.isArray(body.prompt) ? body.prompt[0] : body.prompt) : undefined;
  const request: GenerationRequest = {
    api,
    model: body.model,
    prompt,
    messages: api === 'chat' ? normaliseMessages(body.messages) : undefined,
    maxTokens: body.max_completion_tokens ?? body.max_tokens ?? undefined,
    ...sampling(body),
    constraint: constraint.spec,
    constraintParam: constraint.param,
    lexical: body.lexical,
    policy: body.policy,
    context: body.context ?? [],
    checks: normaliseChecks(body.checks),
    includeUsage: body.stream_options?.include_usage === true,
  };
  enforceLimits(request, config);
  return request;
}
