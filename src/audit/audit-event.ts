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

const NO_VALUES: readonly string[] = [];

/** Object.keys in UTF-16 order (copies are built in that order, so the canonical encoding finds them sorted). */
function sortedKeys(object: object): string[] {
  const keys = Object.keys(object);
  for (let index = 1; index < keys.length; index++) if (keys[index - 1] > keys[index]) return keys.sort();
  return keys;
}

/**
 * A JSON-safe copy of a finding's details with `values` scrubbed from every string: non-finite
 * numbers become null, nesting deeper than 16 becomes '[REDACTED:depth]'. Objects are copied key by
 * key (the own enumerable string keys, as Object.entries gives them, added in sorted order), without
 * the entries arrays; a `__proto__` key stays an own member as Object.fromEntries would make it.
 */
function scrubValue(value: unknown, values: readonly string[], depth = 0): unknown {
  if (depth > 16) return '[REDACTED:depth]';
  if (typeof value === 'string') return values.length === 0 ? value : scrub(value, values);
  if (Array.isArray(value)) return value.map((item) => scrubValue(item, values, depth + 1));
  if (value && typeof value === 'object') {
    const source = value as Record<string, unknown>;
    const result: Record<string, unknown> = {};
    const keys = sortedKeys(source);
    for (let index = 0; index < keys.length; index++) {
      const key = keys[index];
      const item = scrubValue(source[key], values, depth + 1);
      if (key === '__proto__') Object.defineProperty(result, key, { value: item, enumerable: true, writable: true, configurable: true });
      else result[key] = item;
    }
    return result;
  }
  return typeof value === 'number' && !Number.isFinite(value) ? null : value;
}

/**
 * The finding as recorded: its defined members only, added in sorted key order (the order the
 * canonical encoding writes them, so it finds them sorted and does not sort).
 */
function copyFinding(finding: Finding, scrubValues: readonly string[], opaque: boolean): AuditFinding {
  // opaque: the values this finding points at are unknown, so its free text may quote them — keep none of it.
  const result = {} as Record<string, unknown>;
  if (finding.action !== undefined) result.action = finding.action;
  if (finding.check !== undefined) result.check = finding.check;
  if (finding.choice !== undefined) result.choice = finding.choice;
  if (!opaque && finding.details !== undefined) result.details = scrubValue(finding.details, scrubValues);
  const durationMs = finiteOrUndefined(finding.durationMs);
  if (durationMs !== undefined) result.duration_ms = durationMs;
  if (finding.enforced !== undefined) result.enforced = finding.enforced;
  if (finding.error !== undefined) result.error = scrub(opaque ? '[REDACTED]' : finding.error, scrubValues);
  result.explanation = scrub(opaque ? '[REDACTED]' : finding.explanation ?? '', scrubValues);
  result.score = Number.isFinite(finding.score) ? finding.score : 0;
  if (finding.source !== undefined) result.source = finding.source;
  if (finding.spans !== undefined && finding.spans !== null) result.spans = finding.spans.map((span) => [span[0], span[1]] as [number, number]);
  if (finding.stage !== undefined) result.stage = finding.stage;
  if (finding.verdict !== undefined) result.verdict = finding.verdict;
  if (finding.version !== undefined) result.version = finding.version;
  return result as unknown as AuditFinding;
}

function copyPart(part: AuditTextPart): AuditTextPart {
  return part.role === undefined ? { source: part.source, text: part.text } : { role: part.role, source: part.source, text: part.text };
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
        parts: parts.map((part) =>
          part.role === undefined
            ? { length: part.text.length, sha256: sha256Hex(part.text), source: part.source }
            : { length: part.text.length, role: part.role, sha256: sha256Hex(part.text), source: part.source },
        ),
      };
  }
}

/** Sets `object[key]` when `value` is defined (the attributes are built in sorted key order through it). */
function put(object: Record<string, unknown>, key: string, value: unknown): void {
  if (value !== undefined) object[key] = value;
}

/** The defined request attributes, added in sorted key order (the canonical encoding's order). */
function attributesOf(fields: AuditEventFields): AuditAttributes {
  const decoding = fields.decoding ?? {};
  const attributes: Record<string, unknown> = {};
  put(attributes, 'error.type', fields.errorCode ?? undefined);
  put(attributes, 'gen_ai.operation.name', fields.operation);
  put(attributes, 'gen_ai.request.choice.count', finiteOrUndefined(decoding.n));
  put(attributes, 'gen_ai.request.max_tokens', finiteOrUndefined(decoding.maxTokens));
  put(attributes, 'gen_ai.request.model', fields.model);
  put(attributes, 'gen_ai.request.seed', finiteOrUndefined(decoding.seed));
  put(attributes, 'gen_ai.request.stop_sequences', decoding.stop ? [...decoding.stop] : undefined);
  put(attributes, 'gen_ai.request.temperature', finiteOrUndefined(decoding.temperature));
  put(attributes, 'gen_ai.request.top_k', finiteOrUndefined(decoding.topK));
  put(attributes, 'gen_ai.request.top_p', finiteOrUndefined(decoding.topP));
  put(attributes, 'gen_ai.response.finish_reasons', fields.finishReasons ? [...fields.finishReasons] : undefined);
  put(attributes, 'gen_ai.response.model', fields.responseModel);
  put(attributes, 'gen_ai.usage.input_tokens', finiteOrUndefined(fields.usage?.inputTokens));
  put(attributes, 'gen_ai.usage.output_tokens', finiteOrUndefined(fields.usage?.outputTokens));
  put(attributes, 'http.response.status_code', fields.status);
  put(attributes, 'http.route', fields.route);
  put(attributes, 'rein.backend', fields.backend);
  put(attributes, 'rein.constraint.hash', fields.constraint?.hash);
  put(attributes, 'rein.constraint.type', fields.constraint?.type);
  put(attributes, 'rein.request.min_p', finiteOrUndefined(decoding.minP));
  put(attributes, 'rein.request.repetition_penalty', finiteOrUndefined(decoding.repetitionPenalty));
  put(attributes, 'rein.stream', decoding.stream);
  return attributes as AuditAttributes;
}

/**
 * Builds the audit event (a fresh, JSON-safe object; the inputs are not modified). Every object is
 * built with its keys in sorted order, so the canonical encoding on append never has to sort them.
 */
export function buildAuditEvent(fields: AuditEventFields, level: AuditLevel): AuditEvent {
  if (!AUDIT_LEVELS.includes(level)) throw new TypeError(`unknown audit level '${String(level)}'`);
  const findings = fields.findings ?? [];
  const time = fields.time === undefined ? new Date() : new Date(fields.time);
  if (Number.isNaN(time.getTime())) throw new TypeError('buildAuditEvent: invalid time');
  const inputParts = fields.input ?? [];
  const outputParts = fields.output ?? [];
  let scrubValues = NO_VALUES;
  if (level !== 'full') {
    const inputValues = sensitiveValues(inputParts, findings, 'input', level === 'hashes');
    const outputValues = sensitiveValues(outputParts, findings, 'output', level === 'hashes');
    // Most requests have nothing sensitive: then there is nothing to scrub.
    if (inputValues.length > 0 || outputValues.length > 0) scrubValues = [...inputValues, ...outputValues].sort((a, b) => b.length - a.length);
  }
  const auditFindings: AuditFinding[] = new Array<AuditFinding>(findings.length);
  for (let index = 0; index < findings.length; index++) {
    const finding = findings[index];
    const opaque = level !== 'full' && redactsWholePart(finding, finding.stage === 'input' ? inputParts : outputParts);
    auditFindings[index] = copyFinding(finding, scrubValues, opaque);
  }
  const timings: Record<string, number> = {};
  const timingsMs = fields.timingsMs ?? {};
  for (const stage of sortedKeys(timingsMs)) {
    const ms = timingsMs[stage];
    if (Number.isFinite(ms)) timings[stage] = ms;
  }
  const event: Record<string, unknown> = {
    api_key_id: fields.apiKeyId ?? null,
    attributes: attributesOf(fields),
    audit_level: level,
    decision: fields.decision ?? null,
    findings: auditFindings,
    input: content(fields.input, findings, 'input', level),
    output: content(fields.output, findings, 'output', level),
    policy: fields.policy ? { name: fields.policy.name, revision: fields.policy.revision } : null,
  };
  if (level === 'full' && fields.replay) event.replay = structuredClone(fields.replay);
  event.request_id = fields.requestId;
  event.schema_version = AUDIT_SCHEMA_VERSION;
  event.time = time.toISOString();
  event.timings_ms = timings;
  return event as unknown as AuditEvent;
}
