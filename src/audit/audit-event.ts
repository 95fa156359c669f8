/**
 * The audit event: what the gateway records about every request it handled — allowed, refused and
 * failed ones alike. A versioned schema (`schema_version`); request attributes use the OpenTelemetry
 * semantic-convention names where they exist (`gen_ai.*`, `http.*`, `error.type`) in a flat
 * `attributes` map, Rein's own in `rein.*`.
 *
 * Input and output are kept as the policy's audit level says:
 *   full     — the texts as they were;
 *   redacted — a copy with the sensitive findings' spans removed, plus what was removed (see
 *              redact-audit-text.ts); finding explanations and details are scrubbed of those values;
 *   hashes   — SHA-256 and length of each text only; finding explanations/details are scrubbed of every
 *              span a finding pointed at. (An unsalted hash of a short value can be guessed by brute
 *              force; `hashes` proves "this exact text", it does not make a phone number secret.)
 * The API key is recorded by its id only — callers pass the key's configured id, never the key.
 */
import type { Decision, Finding } from '../safety/finding';
import type { ErrorCode } from '../errors/gateway-error';
import { redactAuditText, redactsWholePart, sensitiveValues, type AuditTextPart, type RedactedTextPart } from './redact-audit-text';
import { sha256Hex } from './hash-chain';

export type { AuditTextPart } from './redact-audit-text';

export const AUDIT_SCHEMA_VERSION = '1.0';

export type AuditLevel = 'full' | 'redacted' | 'hashes';
export const AUDIT_LEVELS: readonly AuditLevel[] = ['full', 'redacted', 'hashes'];

export interface HashedTextPart {
  source: string;
  role?: string;
  sha256: string;
  /** Length in UTF-16 code units. */
  length: number;
}

export type AuditContent =
  | { level: 'full'; parts: AuditTextPart[] }
  | { level: 'redacted'; parts: RedactedTextPart[] }
  | { level: 'hashes'; parts: HashedTextPart[] };

export interface AuditFinding {
  check: string;
  version?: string;
  stage: 'input' | 'output';
  choice?: number;
  verdict: Finding['verdict'];
  action: Finding['action'];
  enforced: boolean;
  score: number;
  explanation: string;
  spans?: Array<[number, number]>;
  source?: string;
  duration_ms?: number;
  error?: string;
  details?: Record<string, unknown>;
}

/** OpenTelemetry attribute names (gen_ai semantic conventions, HTTP, error.type) plus rein.* extensions. */
export interface AuditAttributes {
  'gen_ai.operation.name'?: string;
  'gen_ai.request.model'?: string;
  'gen_ai.response.model'?: string;
  'gen_ai.request.temperature'?: number;
  'gen_ai.request.top_p'?: number;
  'gen_ai.request.top_k'?: number;
  'gen_ai.request.max_tokens'?: number;
  'gen_ai.request.seed'?: number;
  'gen_ai.request.stop_sequences'?: string[];
  'gen_ai.request.choice.count'?: number;
  'gen_ai.response.finish_reasons'?: string[];
  'gen_ai.usage.input_tokens'?: number;
  'gen_ai.usage.output_tokens'?: number;
  'http.route'?: string;
  'http.response.status_code'?: number;
  'error.type'?: string;
  'rein.backend'?: string;
  'rein.request.min_p'?: number;
  'rein.request.repetition_penalty'?: number;
  'rein.constraint.type'?: string;
  'rein.constraint.hash'?: string;
  'rein.stream'?: boolean;
}

export interface AuditEvent {
  schema_version: typeof AUDIT_SCHEMA_VERSION;
  request_id: string;
  /** When the request arrived (ISO 8601, UTC). */
  time: string;
  api_key_id: string | null;
  attributes: AuditAttributes;
  policy: { name: string; revision: string } | null;
  findings: AuditFinding[];
  /** null when the request failed before a decision was taken (bad request, backend error…). */
  decision: Decision | null;
  /** Wall time per pipeline stage, milliseconds. */
  timings_ms: Record<string, number>;
  audit_level: AuditLevel;
  input: AuditContent | null;
  output: AuditContent | null;
  /** What a replay needs beyond the attributes (API flavour, constraint and lexical specs); `full` level only. */
  replay?: AuditReplayExtras;
}

export interface AuditReplayExtras {
  api?: string;
  /** The constraint spec as requested (JSON-safe). */
  constraint?: unknown;
  lexical?: unknown;
}

/** What the pipeline knows about a request; everything but the request id, route and status is optional. */
export interface AuditEventFields {
  requestId: string;
  /** Defaults to now. */
  time?: Date | string;
  /** The configured id of the API key (never the key itself); null/absent when unauthenticated. */
  apiKeyId?: string | null;
  route: string;
  operation?: string;
  model?: string;
  responseModel?: string;
  backend?: string;
  decoding?: {
    temperature?: number;
    topP?: number;
    topK?: number;
    minP?: number;
    repetitionPenalty?: number;
    maxTokens?: number;
    n?: number;
    stop?: string[];
    seed?: number;
    stream?: boolean;
  };
  constraint?: { type: string; hash: string } | null;
  policy?: { name: string; revision: string } | null;
  findings?: readonly Finding[];
  decision?: Decision | null;
  status: number;
  errorCode?: ErrorCode | null;
  timingsMs?: Record<string, number>;
  usage?: { inputTokens?: number; outputTokens?: number };
  finishReasons?: string[];
  /** The input texts as the model saw them: `prompt`, or `messages/i` (with role), and `context/i`. */
  input?: readonly AuditTextPart[];
  /** The generated texts, before any output redaction: `choices/i`. */
  output?: readonly AuditTextPart[];
  /** Kept only at the `full` level (a regex or choice list may hold user data). */
  replay?: AuditReplayExtras;
}

function finiteOrUndefined(value: number | undefined): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function scrub(text: string, values: readonly string[]): string {
  let result = text;
  for (const value of values) if (result.includes(value)) result = result.split(value).join('[REDACTED]');
  return result;
}

function scrubValue(value: unknown, values: readonly string[], depth = 0): unknown {
  if (depth > 16) return '[REDACTED:depth]';
  if (typeof value === 'string') return scrub(value, values);
  if (Array.isArray(value)) return value.map((item) => scrubValue(item, values, depth + 1));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([key, item]) => [key, scrubValue(item, values, depth + 1)]));
  }
  return typeof value === 'number' && !Number.isFinite(value) ? null : value;
}

/**
 * The defined members of `object`, in its order, as a new object. (Deleting the undefined members
 * instead would turn the object into a slow dictionary-mode one that every later read — the
 * canonical encoding on each append — pays for.)
 */
function definedMembers<T extends object>(object: T): T {
  const result = {} as Record<string, unknown>;
  for (const key of Object.keys(object)) {
    const value = (object as Record<string, unknown>)[key];
    if (value !== undefined) result[key] = value;
  }
  return result as T;
}

function copyFinding(finding: Finding, scrubValues: readonly string[], opaque: boolean): AuditFinding {
  // opaque: the values this finding points at are unknown, so its free text may quote them — keep none of it.
  if (opaque) return copyFinding({ ...finding, explanation: '[REDACTED]', error: finding.error === undefined ? undefined : '[REDACTED]', details: undefined }, scrubValues, false);
  return definedMembers<AuditFinding>({
    check: finding.check,
    version: finding.version,
    stage: finding.stage,
    choice: finding.choice,
    verdict: finding.verdict,
    action: finding.action,
    enforced: finding.enforced,
    score: Number.isFinite(finding.score) ? finding.score : 0,
    explanation: scrub(finding.explanation ?? '', scrubValues),
    spans: finding.spans?.map((span) => [span[0], span[1]] as [number, number]),
    source: finding.source,
    duration_ms: finiteOrUndefined(finding.durationMs),
    error: finding.error === undefined ? undefined : scrub(finding.error, scrubValues),
    details: finding.details === undefined ? undefined : (scrubValue(finding.details, scrubValues) as Record<string, unknown>),
  });
}

function copyPart(part: AuditTextPart): AuditTextPart {
  return part.role === undefined ? { source: part.source, text: part.text } : { source: part.source, role: part.role, text: part.text };
}

function content(parts: readonly AuditTextPart[] | undefined, findings: readonly Finding[], stage: 'input' | 'output', level: AuditLevel): AuditContent | null {
  if (!parts) return null;
  switch (level) {
    case 'full':
      return { level, parts: parts.map(copyPart) };
    case 'redacted':
      return { level, parts: redactAuditText(parts, findings, stage) };
    case 'hashes':
      return {
        level,
        parts: parts.map((part) => ({ source: part.source, ...(part.role === undefined ? {} : { role: part.role }), sha256: sha256Hex(part.text), length: part.text.length })),
      };
  }
}

/** Builds the audit event (a fresh, JSON-safe object; the inputs are not modified). */
export function buildAuditEvent(fields: AuditEventFields, level: AuditLevel): AuditEvent {
  if (!AUDIT_LEVELS.includes(level)) throw new TypeError(`unknown audit level '${String(level)}'`);
  const findings = fields.findings ?? [];
  const time = fields.time === undefined ? new Date() : new Date(fields.time);
  if (Number.isNaN(time.getTime())) throw new TypeError('buildAuditEvent: invalid time');
  const scrubValues =
    level === 'full'
      ? []
      : [
          ...sensitiveValues(fields.input ?? [], findings, 'input', level === 'hashes'),
          ...sensitiveValues(fields.output ?? [], findings, 'output', level === 'hashes'),
        ].sort((a, b) => b.length - a.length);
  const decoding = fields.decoding ?? {};
  const attributes = definedMembers<AuditAttributes>({
    'gen_ai.operation.name': fields.operation,
    'gen_ai.request.model': fields.model,
    'gen_ai.response.model': fields.responseModel,
    'gen_ai.request.temperature': finiteOrUndefined(decoding.temperature),
    'gen_ai.request.top_p': finiteOrUndefined(decoding.topP),
    'gen_ai.request.top_k': finiteOrUndefined(decoding.topK),
    'gen_ai.request.max_tokens': finiteOrUndefined(decoding.maxTokens),
    'gen_ai.request.seed': finiteOrUndefined(decoding.seed),
    'gen_ai.request.stop_sequences': decoding.stop ? [...decoding.stop] : undefined,
    'gen_ai.request.choice.count': finiteOrUndefined(decoding.n),
    'gen_ai.response.finish_reasons': fields.finishReasons ? [...fields.finishReasons] : undefined,
    'gen_ai.usage.input_tokens': finiteOrUndefined(fields.usage?.inputTokens),
    'gen_ai.usage.output_tokens': finiteOrUndefined(fields.usage?.outputTokens),
    'http.route': fields.route,
    'http.response.status_code': fields.status,
    'error.type': fields.errorCode ?? undefined,
    'rein.backend': fields.backend,
    'rein.request.min_p': finiteOrUndefined(decoding.minP),
    'rein.request.repetition_penalty': finiteOrUndefined(decoding.repetitionPenalty),
    'rein.constraint.type': fields.constraint?.type,
    'rein.constraint.hash': fields.constraint?.hash,
    'rein.stream': decoding.stream,
  });
  const timings: Record<string, number> = {};
  for (const [stage, ms] of Object.entries(fields.timingsMs ?? {})) if (Number.isFinite(ms)) timings[stage] = ms;
  return {
    schema_version: AUDIT_SCHEMA_VERSION,
    request_id: fields.requestId,
    time: time.toISOString(),
    api_key_id: fields.apiKeyId ?? null,
    attributes,
    policy: fields.policy ? { name: fields.policy.name, revision: fields.policy.revision } : null,
    findings: findings.map((finding) =>
      copyFinding(finding, scrubValues, level !== 'full' && redactsWholePart(finding, finding.stage === 'input' ? fields.input ?? [] : fields.output ?? [])),
    ),
    decision: fields.decision ?? null,
    timings_ms: timings,
    audit_level: level,
    input: content(fields.input, findings, 'input', level),
    output: content(fields.output, findings, 'output', level),
    ...(level === 'full' && fields.replay ? { replay: structuredClone(fields.replay) } : {}),
  };
}
