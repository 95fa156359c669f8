/**
 * The audit event builder and redaction as they were before the sorted-key / no-sensitive-value fast
 * paths (src/audit at a739102), kept verbatim as the reference the current code must match byte for
 * byte under canonicalJson (audit-event-equivalence.test.ts). Not used by the gateway.
 */
/* eslint-disable */
import type { Finding } from '../../../src/safety/finding';
import type { AuditEvent, AuditEventFields, AuditFinding, AuditLevel, AuditAttributes, AuditContent } from '../../../src/audit/audit-event';
import type { AuditTextPart, RedactedTextPart, RemovedSummary } from '../../../src/audit/redact-audit-text';
import { sha256Hex } from '../../../src/audit/hash-chain';

const AUDIT_SCHEMA_VERSION = '1.0';
const AUDIT_LEVELS: readonly AuditLevel[] = ['full', 'redacted', 'hashes'];

function isSensitiveFinding(finding: Finding): boolean {
  if (finding.verdict !== 'fail') return false;
  if (finding.action === 'redact') return true;
  if (finding.check === 'pii' || finding.check.startsWith('pii.')) return true;
  return finding.details?.sensitive === true;
}

/** The part a finding's spans refer to, or undefined when it cannot be told. */
function partForFinding(finding: Finding, parts: readonly AuditTextPart[]): AuditTextPart | undefined {
  if (finding.source !== undefined) return parts.find((part) => part.source === finding.source);
  if (finding.stage === 'output') return parts.find((part) => part.source === `choices/${finding.choice ?? 0}`);
  return parts.length === 1 ? parts[0] : undefined;
}

function validSpans(finding: Finding, length: number): Array<[number, number]> | undefined {
  if (!finding.spans || finding.spans.length === 0) return undefined;
  const spans: Array<[number, number]> = [];
  for (const span of finding.spans) {
    if (!Array.isArray(span) || span.length !== 2) return undefined;
    const [start, end] = span;
    if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > length || start >= end) return undefined;
    spans.push([start, end]);
  }
  return spans;
}

/**
 * Redacts the parts of one stage with the findings of that stage. `findings` may hold findings of
 * both stages; only those whose stage matches `stage` are used.
 */
export function referenceRedactAuditText(parts: readonly AuditTextPart[], findings: readonly Finding[], stage: 'input' | 'output'): RedactedTextPart[] {
  const perPart = new Map<AuditTextPart, Array<{ check: string; span: [number, number] }>>();
  const whole = new Map<AuditTextPart, Set<string>>();
  for (const finding of findings) {
    if (finding.stage !== stage || !isSensitiveFinding(finding)) continue;
    const part = partForFinding(finding, parts);
    const targets = part ? [part] : parts; // unknown part: fail closed on every part of the stage
    for (const target of targets) {
      const spans = part ? validSpans(finding, target.text.length) : undefined;
      if (!spans) {
        if (!whole.has(target)) whole.set(target, new Set());
        whole.get(target)!.add(finding.check);
        continue;
      }
      if (!perPart.has(target)) perPart.set(target, []);
      for (const span of spans) perPart.get(target)!.push({ check: finding.check, span });
    }
  }
  return parts.map((part) => {
    const base = part.role === undefined ? { source: part.source } : { source: part.source, role: part.role };
    const wholeChecks = whole.get(part);
    if (wholeChecks) {
      const checks = [...wholeChecks].sort();
      return { ...base, text: `[REDACTED:${checks.join(',')}]`, removed: checks.map((check) => ({ check, count: 1, chars: part.text.length, whole: true })) };
    }
    const spans = (perPart.get(part) ?? []).sort((a, b) => a.span[0] - b.span[0] || b.span[1] - a.span[1]);
    // Merge overlapping spans; the merged span is attributed to the first check that started it.
    const merged: Array<{ check: string; start: number; end: number }> = [];
    for (const { check, span } of spans) {
      const last = merged[merged.length - 1];
      if (last && span[0] < last.end) last.end = Math.max(last.end, span[1]);
      else merged.push({ check, start: span[0], end: span[1] });
    }
    let text = '';
    let cursor = 0;
    const summary = new Map<string, RemovedSummary>();
    for (const span of merged) {
      text += part.text.slice(cursor, span.start) + `[REDACTED:${span.check}]`;
      cursor = span.end;
      const entry = summary.get(span.check) ?? { check: span.check, count: 0, chars: 0 };
      entry.count++;
      entry.chars += span.end - span.start;
      summary.set(span.check, entry);
    }
    text += part.text.slice(cursor);
    return { ...base, text, removed: [...summary.values()].sort((a, b) => a.check.localeCompare(b.check)) };
  });
}

/** A sensitive finding whose removed values cannot be told (no usable spans, or no identifiable part). */
function redactsWholePart(finding: Finding, parts: readonly AuditTextPart[]): boolean {
  if (!isSensitiveFinding(finding)) return false;
  const part = partForFinding(finding, parts);
  return !part || validSpans(finding, part.text.length) === undefined;
}

/** The removed substrings (to scrub them from finding explanations); never stored. */
function sensitiveValues(parts: readonly AuditTextPart[], findings: readonly Finding[], stage: 'input' | 'output', all: boolean): string[] {
  const values = new Set<string>();
  for (const finding of findings) {
    if (finding.stage !== stage || (!all && !isSensitiveFinding(finding))) continue;
    const part = partForFinding(finding, parts);
    if (!part) continue;
    const spans = validSpans(finding, part.text.length) ?? [];
    for (const [start, end] of spans) values.add(part.text.slice(start, end));
  }
  return [...values].filter((value) => value.length > 0).sort((a, b) => b.length - a.length);
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
      return { level, parts: referenceRedactAuditText(parts, findings, stage) };
    case 'hashes':
      return {
        level,
        parts: parts.map((part) => ({ source: part.source, ...(part.role === undefined ? {} : { role: part.role }), sha256: sha256Hex(part.text), length: part.text.length })),
      };
  }
}

/** Builds the audit event (a fresh, JSON-safe object; the inputs are not modified). */
export function referenceBuildAuditEvent(fields: AuditEventFields, level: AuditLevel): AuditEvent {
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
