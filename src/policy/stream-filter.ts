/**
 * createStreamFilter: applies a policy's output filters to a streamed output, delta by delta, so that
 * nothing a check would block or redact ever leaves the gateway. `push(delta)` returns the text that
 * is safe to emit now; the rest is held back:
 *   - always the last W characters, W longer than the longest match any streaming filter can report;
 *   - from the start of any match that ends inside that window (it may still grow);
 *   - from wherever a filter says an unfinished match may start (a trailing run of non-space
 *     characters — an email or token still arriving —, an open private-key block);
 *   - until at least `minRelease` characters beyond the window could go (a scan per few tokens, not
 *     per token).
 * The emitted prefix is redacted/sanitized with the matches found in it. A match for an enforced
 * `block` entry stops emission for good. Checks that need the whole output (`final` mode, or any check
 * that is not a synchronous TextFilter) and could change or block it make the filter buffer
 * everything (`buffered: true`): push returns nothing and end() returns the whole checked text.
 * end() also runs all the policy's output checks on the complete output, for the findings and decision.
 */
import type { Decision, Finding } from '../safety/finding';
import { isTextFilter, type FilterMatch, type TextFilter } from '../safety/filters/text-filter';
import { applyReplacements, type Replacement } from './apply-replacements';
import type { CheckRegistry } from './check-registry';
import { fires, runOutputChecks, type OutputRunContext } from './policy-engine';
import type { CheckEntry, Policy } from './policy-types';

/** Characters of already-emitted text kept as left context for the next scan (word boundaries). */
const LEFT_CONTEXT = 128;
/** Added to the longest match length: boundary look-arounds need a character or two beyond a match. */
const WINDOW_MARGIN = 8;

export interface StreamFilterOptions {
  context?: OutputRunContext;
  signal?: AbortSignal;
  /** Choice index (n > 1), copied into the findings. */
  choice?: number;
}

export interface StreamFilterResult {
  /** Text still to emit after everything push() returned (empty when blocked). */
  text: string;
  /** Everything emitted over the stream, push() results and `text` together. */
  emitted: string;
  findings: Finding[];
  decision: Decision;
  buffered: boolean;
  /** The policy's refusal message, when the decision is block (the caller sends it in place of the rest). */
  refusal?: string;
}

export interface StreamFilter {
  /** True when the policy has whole-output checks that could change or block it: nothing streams early. */
  readonly buffered: boolean;
  /** True once a blocking match has been seen: push() returns nothing more. */
  readonly blocked: boolean;
  push(delta: string): string;
  end(): Promise<StreamFilterResult>;
}

interface StreamingEntry {
  entry: CheckEntry;
  filter: TextFilter;
  threshold: number;
  firesWhen: 'at_or_above' | 'below';
}

function changesText(entry: CheckEntry): boolean {
  return entry.enforcement === 'enforce' && (entry.action === 'block' || entry.action === 'sanitize' || entry.action === 'redact');
}

export function createStreamFilter(policy: Policy, registry: CheckRegistry, optionsOrChoice: StreamFilterOptions | number = {}): StreamFilter {
  const options: StreamFilterOptions = typeof optionsOrChoice === 'number' ? { choice: optionsOrChoice } : optionsOrChoice;
  const signal = options.signal ?? new AbortController().signal;
  const streaming: StreamingEntry[] = [];
  let buffered = false;
  for (const entry of policy.output) {
    if (!changesText(entry)) continue; // allow/flag/shadow never alter what is emitted; end() reports them
    const info = registry.get(entry.check);
    const candidate = info?.outputCheck ?? info?.detector;
    if (info && !info.missing && isTextFilter(candidate) && candidate.mode === 'stream') {
      streaming.push({ entry, filter: candidate, threshold: entry.threshold ?? info.defaultThreshold, firesWhen: info.firesWhen });
    } else buffered = true;
  }
  const window = streaming.reduce((longest, item) => Math.max(longest, item.filter.maxMatchLength(item.entry.params)), 0) + WINDOW_MARGIN;
  // A scan covers the left context, the held-back window and the new text. Scanning again for every
  // token would re-read those ~LEFT_CONTEXT + window characters to release a token's few characters
  // (with `default`, a few hundred characters of regexes per token); instead a scan waits until at
  // least an eighth of that much could be released, so each character is scanned about nine times at
  // most. Nothing is emitted without a scan, so the wait changes when text leaves, never what leaves.
  const minRelease = Math.max(8, Math.ceil((LEFT_CONTEXT + window) / 8));

  let raw = '';
  let committed = 0;
  let emitted = '';
  let blocked = false;

  /** Matches of the streaming entries over raw[from..], in absolute offsets, firing ones only. */
  function scan(from: number): Array<FilterMatch & { item: StreamingEntry }> {
    const found: Array<FilterMatch & { item: StreamingEntry }> = [];
    for (const item of streaming) {
      const whole = item.filter.streamScope === 'whole';
      const offset = whole ? 0 : from;
      for (const match of item.filter.scan(raw.slice(offset), item.entry.params, { offset })) {
        if (!fires(match.score ?? 1, item.threshold, item.firesWhen)) continue;
        found.push({ ...match, start: match.start + offset, end: match.end + offset, item });
      }
    }
    return found;
  }

  /** Emits raw[committed, cut) with the replacements that fall in it. */
  function commit(cut: number, matches: Array<FilterMatch & { item: StreamingEntry }>): string {
    if (cut <= committed) return '';
    const replacements: Replacement[] = [];
    for (const match of matches) {
      if (match.item.entry.action === 'block' || match.end <= committed || match.start >= cut) continue;
      replacements.push({ start: Math.max(match.start, committed) - committed, end: Math.min(match.end, cut) - committed, text: match.replacement });
    }
    const piece = applyReplacements(raw.slice(committed, cut), replacements);
    committed = cut;
    emitted += piece;
    return piece;
  }

  function step(final: boolean): string {
    const from = Math.max(0, committed - LEFT_CONTEXT);
    const matches = scan(from).filter((match) => match.end > committed);
    if (matches.some((match) => match.item.entry.action === 'block')) {
      blocked = true;
      return '';
    }
    if (final) return commit(raw.length, matches);
    let cut = raw.length - window;
    for (const item of streaming) {
      if (item.filter.streamScope === 'whole') continue;
      cut = Math.min(cut, from + item.filter.holdBackFrom(raw.slice(from), item.entry.params));
    }
    // A match that ends inside the window may still grow; one that straddles the cut must not be split.
    const growing = raw.length - window;
    let lowered = true;
    while (lowered) {
      lowered = false;
      for (const match of matches) {
        if ((match.end > growing || (match.start < cut && match.end > cut)) && match.start < cut) {
          cut = match.start;
          lowered = true;
        }
      }
    }
    return commit(Math.max(cut, committed), matches);
  }

  return {
    get buffered() {
      return buffered;
    },
    get blocked() {
      return blocked;
    },
    push(delta: string): string {
      raw += delta;
      if (buffered || blocked || delta.length === 0) return '';
      if (raw.length - window - committed < minRelease) return '';
      return step(false);
    },
    async end(): Promise<StreamFilterResult> {
      const outcome = await runOutputChecks(policy, raw, { ...(options.context ?? {}), ...(options.choice === undefined ? {} : { choice: options.choice }) }, registry, signal);
      const emittedBefore = emitted;
      let text = !buffered && !blocked ? step(true) : '';
      const block = blocked || outcome.decision === 'block';
      if (block) {
        text = '';
        emitted = emittedBefore;
      } else if (buffered) {
        text = outcome.sanitizedOutput;
        emitted = text;
      }
      return {
        text,
        emitted,
        findings: outcome.findings,
        decision: block ? 'block' : outcome.decision,
        buffered,
        ...(block ? { refusal: policy.refusal } : {}),
      };
    },
  };
}
