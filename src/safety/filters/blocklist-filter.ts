/**
 * The `blocklist` filter: terms that must not appear, matched after normalisation (case, NFKC,
 * diacritics, confusables, leetspeak, spacing tricks — see ../text/normalize-for-matching.ts), with an
 * allowlist of phrases that override it ("Scunthorpe" problems). Policy parameters:
 *   terms: [..]            phrases to find (required, at most 5,000, each at most 200 characters)
 *   allow: [..]            phrases whose occurrences suppress any blocklist match inside them
 *   whole_word: true       match only at word boundaries (default true)
 *   replacement: "[BLOCKED]"  text put in place of a match on sanitize/redact
 * Matching is a substring search per term over the folded text: O(text × terms), no regex.
 */
import { normalizeForMatching, originalSpan, type NormalizedText } from '../text/normalize-for-matching';
import { createTextFilter, dropOverlaps, trailingRunStart, type FilterMatch, type TextFilter } from './text-filter';

export const BLOCKLIST_PARAMS_SCHEMA = {
  type: 'object',
  required: ['terms'],
  properties: {
    terms: { type: 'array', items: { type: 'string', minLength: 1, maxLength: 200 }, maxItems: 5000 },
    allow: { type: 'array', items: { type: 'string', minLength: 1, maxLength: 200 }, maxItems: 5000 },
    whole_word: { type: 'boolean' },
    replacement: { type: 'string', maxLength: 100 },
  },
  additionalProperties: false,
} as const;

const WORD = /[\p{L}\p{N}]/u;

/** Folded terms are cached per parameter object: policies are frozen after load. */
const foldedCache = new WeakMap<object, { terms: string[]; allow: string[] }>();

function foldTerms(params: Record<string, unknown>): { terms: string[]; allow: string[] } {
  const cached = foldedCache.get(params);
  if (cached) return cached;
  const fold = (list: unknown) =>
    Array.isArray(list) ? [...new Set((list as string[]).map((term) => normalizeForMatching(term).text.trim()).filter((term) => term.length > 0))] : [];
  const folded = { terms: fold(params.terms), allow: fold(params.allow) };
  foldedCache.set(params, folded);
  return folded;
}

function occurrences(haystack: NormalizedText, needle: string, wholeWord: boolean): Array<[number, number]> {
  const found: Array<[number, number]> = [];
  let from = 0;
  for (;;) {
    const index = haystack.text.indexOf(needle, from);
    if (index < 0) break;
    const end = index + needle.length;
    const before = haystack.text[index - 1];
    const after = haystack.text[end];
    const bounded = (before === undefined || !WORD.test(before)) && (after === undefined || !WORD.test(after));
    if (!wholeWord || bounded) found.push([index, end]);
    from = index + 1;
  }
  return found;
}

export function scanBlocklist(text: string, params: Record<string, unknown>): FilterMatch[] {
  const { terms, allow } = foldTerms(params);
  if (terms.length === 0 || text.length === 0) return [];
  const wholeWord = params.whole_word !== false;
  const replacement = typeof params.replacement === 'string' ? params.replacement : '[BLOCKED]';
  const normalized = normalizeForMatching(text);
  const allowed = allow.flatMap((phrase) => occurrences(normalized, phrase, false));
  const matches: FilterMatch[] = [];
  for (const term of terms) {
    for (const [from, to] of occurrences(normalized, term, wholeWord)) {
      if (allowed.some(([allowFrom, allowTo]) => allowFrom <= from && to <= allowTo)) continue;
      const [start, end] = originalSpan(normalized, from, to);
      matches.push({ entity: 'term', start, end, replacement });
    }
  }
  return dropOverlaps(matches);
}

export function createBlocklistFilter(): TextFilter {
  return createTextFilter({
    id: 'blocklist',
    version: '1.0.0',
    paramsSchema: BLOCKLIST_PARAMS_SCHEMA,
    scan: scanBlocklist,
    maxMatchLength(params) {
      // Spacing tricks and invisible characters can stretch a term: allow 4 original characters per folded one.
      const longest = Math.max(0, ...(Array.isArray(params.terms) ? (params.terms as string[]) : []).map((term) => term.length));
      const longestAllow = Math.max(0, ...(Array.isArray(params.allow) ? (params.allow as string[]) : []).map((term) => term.length));
      return 4 * Math.max(longest, longestAllow) + 8;
    },
    holdBackFrom: trailingRunStart,
    describe(_entity, count) {
      return `${count} blocklisted term${count === 1 ? '' : 's'}`;
    },
  });
}
