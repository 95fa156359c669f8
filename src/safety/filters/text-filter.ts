/**
 * TextFilter: the shape every deterministic filter (PII, secrets, blocklist, regex, length, language)
 * shares. A filter is both a Detector (input side) and an OutputCheck (output side), and also exposes a
 * synchronous `scan` so that the streaming filter can run it on each delta without waiting, plus the
 * facts streaming needs: how long a match can be and where an unfinished match may start.
 *
 * createTextFilter turns a scan function into that full object: matches are grouped per entity into
 * DetectorResults (score 1 when something matched, else one result with score 0) carrying spans and
 * the redaction replacement of each match.
 */
import type { Detector, DetectorContext, DetectorResult, OutputCheck } from '../detector';

export interface FilterMatch {
  /** Sub-check id: `email`, `aws_access_key`, `blocklist`… */
  entity: string;
  start: number;
  end: number;
  /** The text to put in place of the match when the policy sanitizes or redacts. */
  replacement: string;
  /** In [0, 1]; default 1. */
  score?: number;
}

export interface ScanOptions {
  /** Absolute offset of `text` in the whole output (streaming scans a window). */
  offset?: number;
}

export interface TextFilter extends Detector, OutputCheck {
  readonly mode: 'stream' | 'final';
  readonly paramsSchema: Record<string, unknown>;
  /** `window`: matches depend only on nearby text; `whole`: the filter must see the whole text (length). */
  readonly streamScope: 'window' | 'whole';
  scan(text: string, params: Record<string, unknown>, options?: ScanOptions): FilterMatch[];
  /** Longest match the filter can report (hold-back window for streaming). */
  maxMatchLength(params: Record<string, unknown>): number;
  /** Index from which the end of `text` may still become a match (text.length when nothing is pending). */
  holdBackFrom(text: string, params: Record<string, unknown>): number;
}

export interface TextFilterDefinition {
  id: string;
  version: string;
  mode?: 'stream' | 'final';
  streamScope?: 'window' | 'whole';
  paramsSchema: Record<string, unknown>;
  scan(text: string, params: Record<string, unknown>, options?: ScanOptions): FilterMatch[];
  maxMatchLength(params: Record<string, unknown>): number;
  holdBackFrom?(text: string, params: Record<string, unknown>): number;
  /** Human description of n matches of one entity, e.g. "2 email addresses". */
  describe(entity: string, count: number): string;
}

/** Longest run of non-whitespace the trailing-run hold-back will wait for before giving up. */
export const MAX_TOKEN_RUN = 16384;

/** Hold back the trailing run of non-whitespace characters: emails, keys and tokens are such runs. */
export function trailingRunStart(text: string): number {
  let index = text.length;
  const limit = Math.max(0, text.length - MAX_TOKEN_RUN);
  while (index > limit && !/\s/.test(text[index - 1])) index--;
  return index;
}

export function isTextFilter(value: unknown): value is TextFilter {
  return typeof value === 'object' && value !== null && typeof (value as TextFilter).scan === 'function' &&
    typeof (value as TextFilter).maxMatchLength === 'function';
}

/** Groups matches into one DetectorResult per entity (score 1), or one passing result. */
export function matchesToResults(definition: Pick<TextFilterDefinition, 'id' | 'describe'>, matches: FilterMatch[]): DetectorResult[] {
  if (matches.length === 0) return [{ score: 0, explanation: `${definition.id}: nothing found` }];
  const byEntity = new Map<string, FilterMatch[]>();
  for (const match of matches) {
    const list = byEntity.get(match.entity) ?? [];
    list.push(match);
    byEntity.set(match.entity, list);
  }
  return [...byEntity.entries()].map(([entity, list]) => ({
    subCheck: entity,
    score: Math.max(...list.map((match) => match.score ?? 1)),
    explanation: `found ${definition.describe(entity, list.length)}`,
    spans: list.map((match) => [match.start, match.end] as [number, number]),
    replacements: list.map((match) => ({ start: match.start, end: match.end, text: match.replacement })),
    details: { count: list.length },
  }));
}

export function createTextFilter(definition: TextFilterDefinition): TextFilter {
  // The scan runs to completion synchronously, so the check's signal (read by nobody here) cannot stop
  // it; the engine does not start a check once the request has been aborted.
  const runSync = (text: string, context: DetectorContext): DetectorResult[] => matchesToResults(definition, definition.scan(text, context.params ?? {}));
  const run = async (text: string, context: DetectorContext): Promise<DetectorResult[]> => runSync(text, context);
  return {
    id: definition.id,
    version: definition.version,
    mode: definition.mode ?? 'stream',
    streamScope: definition.streamScope ?? 'window',
    paramsSchema: definition.paramsSchema,
    scan: definition.scan,
    maxMatchLength: definition.maxMatchLength,
    holdBackFrom: definition.holdBackFrom ?? ((text) => text.length),
    detect: run,
    check: run,
    detectSync: runSync,
    checkSync: runSync,
  };
}

/** Sorts matches by start and drops any that overlap an earlier, longer-or-equal one. */
export function dropOverlaps(matches: FilterMatch[]): FilterMatch[] {
  const sorted = [...matches].sort((a, b) => a.start - b.start || b.end - a.end);
  const kept: FilterMatch[] = [];
  let lastEnd = -1;
  for (const match of sorted) {
    if (match.start >= lastEnd) {
      kept.push(match);
      lastEnd = match.end;
    }
  }
  return kept;
}
