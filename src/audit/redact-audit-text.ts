/**
 * Redaction for the audit log's `redacted` level. Works on a copy: the caller's texts and findings are
 * never changed. A text part loses the spans of the findings that mark sensitive content, each span
 * replaced by `[REDACTED:<check>]`, and the part records what was removed — per check, how many spans
 * and how many characters — never the removed values.
 *
 * Which findings redact: failing (`verdict: fail`) findings whose action is `redact`, every `pii` /
 * `pii.*` check whatever its action or enforcement (a shadow PII finding is still PII), and any
 * finding with `details.sensitive === true`. Fail closed: such a finding without usable spans, or
 * whose text part cannot be identified, redacts the whole part (recorded as `whole: true`).
 */
import type { Finding } from '../safety/finding';

export interface AuditTextPart {
  /** Where the text came from: `prompt`, `messages/2`, `context/0`, `choices/0`. */
  source: string;
  /** Chat role, for messages. */
  role?: string;
  text: string;
}

export interface RemovedSummary {
  check: string;
  /** Number of spans removed (after merging overlaps). */
  count: number;
  /** Characters (UTF-16 code units) removed. */
  chars: number;
  /** The finding had no usable spans (or no identifiable part): the whole text was removed. */
  whole?: boolean;
}

export interface RedactedTextPart {
  source: string;
  role?: string;
  text: string;
  removed: RemovedSummary[];
}

export function isSensitiveFinding(finding: Finding): boolean {
  if (finding.verdict !== 'fail') return false;
  if (finding.action === 'redact') return true;
  if (finding.check === 'pii' || finding.check.startsWith('pii.')) return true;
  return finding.details?.sensitive === true;
}

/** The part a finding's spans refer to, or undefined when it cannot be told. */
export function partForFinding(finding: Finding, parts: readonly AuditTextPart[]): AuditTextPart | undefined {
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
export function redactAuditText(parts: readonly AuditTextPart[], findings: readonly Finding[], stage: 'input' | 'output'): RedactedTextPart[] {
  // Most requests have no sensitive finding: every part is kept as it is (the same objects as below).
  let sensitive = false;
  for (let index = 0; index < findings.length && !sensitive; index++) sensitive = findings[index].stage === stage && isSensitiveFinding(findings[index]);
  if (!sensitive) return parts.map(unredacted);
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
    const wholeChecks = whole.get(part);
    if (wholeChecks) {
      const checks = [...wholeChecks].sort();
      return redactedPart(part, `[REDACTED:${checks.join(',')}]`, checks.map((check) => ({ chars: part.text.length, check, count: 1, whole: true })));
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
      const entry = summary.get(span.check) ?? { chars: 0, check: span.check, count: 0 };
      entry.count++;
      entry.chars += span.end - span.start;
      summary.set(span.check, entry);
    }
    text += part.text.slice(cursor);
    return redactedPart(part, text, [...summary.values()].sort((a, b) => a.check.localeCompare(b.check)));
  });
}

/** A redacted part, its keys in sorted order (the canonical encoding's order). */
function redactedPart(part: AuditTextPart, text: string, removed: RemovedSummary[]): RedactedTextPart {
  return part.role === undefined ? { removed, source: part.source, text } : { removed, role: part.role, source: part.source, text };
}

function unredacted(part: AuditTextPart): RedactedTextPart {
  return redactedPart(part, part.text, []);
}

/** A sensitive finding whose removed values cannot be told (no usable spans, or no identifiable part). */
export function redactsWholePart(finding: Finding, parts: readonly AuditTextPart[]): boolean {
  if (!isSensitiveFinding(finding)) return false;
  const part = partForFinding(finding, parts);
  return !part || validSpans(finding, part.text.length) === undefined;
}

/** The removed substrings (to scrub them from finding explanations); never stored. */
export function sensitiveValues(parts: readonly AuditTextPart[], findings: readonly Finding[], stage: 'input' | 'output', all: boolean): string[] {
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
