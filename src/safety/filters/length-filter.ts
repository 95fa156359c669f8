/**
 * The `length` filter: limits on characters, words and lines. Policy parameters (at least one):
 *   max_chars, max_words, max_lines
 * A match covers the text beyond the limit; sanitize/redact truncates there. On a stream it must
 * see the whole text so far (`streamScope: whole`), which is a count, not a re-scan.
 */
import { createTextFilter, type FilterMatch, type TextFilter } from './text-filter';

export const LENGTH_PARAMS_SCHEMA = {
  type: 'object',
  properties: {
    max_chars: { type: 'integer', minimum: 0 },
    max_words: { type: 'integer', minimum: 0 },
    max_lines: { type: 'integer', minimum: 0 },
  },
  anyOf: [{ required: ['max_chars'] }, { required: ['max_words'] }, { required: ['max_lines'] }],
  additionalProperties: false,
} as const;

/** Offset where the (limit+1)-th item starts, or -1. `pattern` matches one item start. */
function offsetOfItem(text: string, pattern: RegExp, limit: number): number {
  pattern.lastIndex = 0;
  let count = 0;
  let match: RegExpExecArray | null;
  while ((match = pattern.exec(text)) !== null) {
    count++;
    if (count > limit) return match.index;
    if (match[0].length === 0) pattern.lastIndex++;
  }
  return -1;
}

export function scanLength(text: string, params: Record<string, unknown>): FilterMatch[] {
  const cuts: Array<{ entity: string; at: number }> = [];
  if (typeof params.max_chars === 'number' && text.length > params.max_chars) cuts.push({ entity: 'max_chars', at: params.max_chars });
  if (typeof params.max_words === 'number') {
    const at = offsetOfItem(text, /[^\s]+/g, params.max_words);
    if (at >= 0) cuts.push({ entity: 'max_words', at });
  }
  if (typeof params.max_lines === 'number') {
    const at = offsetOfItem(text, /(?:^|\n)/g, params.max_lines);
    if (at >= 0) cuts.push({ entity: 'max_lines', at });
  }
  return cuts.map(({ entity, at }) => ({ entity, start: at, end: text.length, replacement: '' }));
}

export function createLengthFilter(): TextFilter {
  return createTextFilter({
    id: 'length',
    version: '1.0.0',
    paramsSchema: LENGTH_PARAMS_SCHEMA,
    streamScope: 'whole',
    scan: scanLength,
    maxMatchLength: () => 0,
    describe(entity) {
      return `text over the ${entity.replace('_', ' ')} limit`;
    },
  });
}
