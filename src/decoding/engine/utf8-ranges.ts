/**
 * utf8Sequences: splits a range of Unicode scalar values into byte-range sequences, so that a
 * character class over code points becomes an automaton over UTF-8 bytes (the technique of RE2 and
 * Rust's regex-syntax). Surrogates (U+D800–U+DFFF) are never produced: they are not valid in UTF-8.
 */

export type ByteRangeSequence = Array<[number, number]>;

const MAX_SCALAR = 0x10ffff;
const ENCODED_LENGTH_LIMITS = [0x7f, 0x7ff, 0xffff, 0x10ffff];

function encode(codePoint: number): number[] {
  if (codePoint <= 0x7f) return [codePoint];
  if (codePoint <= 0x7ff) return [0xc0 | (codePoint >> 6), 0x80 | (codePoint & 0x3f)];
  if (codePoint <= 0xffff) return [0xe0 | (codePoint >> 12), 0x80 | ((codePoint >> 6) & 0x3f), 0x80 | (codePoint & 0x3f)];
  return [0xf0 | (codePoint >> 18), 0x80 | ((codePoint >> 12) & 0x3f), 0x80 | ((codePoint >> 6) & 0x3f), 0x80 | (codePoint & 0x3f)];
}

function split(start: number, end: number, out: ByteRangeSequence[]): void {
  // Remove surrogates.
  if (start <= 0xdfff && end >= 0xd800) {
    if (start < 0xd800) split(start, 0xd7ff, out);
    if (end > 0xdfff) split(0xe000, end, out);
    return;
  }
  // Split at encoded-length boundaries.
  for (let i = 0; i < ENCODED_LENGTH_LIMITS.length - 1; i++) {
    const limit = ENCODED_LENGTH_LIMITS[i];
    if (start <= limit && end > limit) {
      split(start, limit, out);
      split(limit + 1, end, out);
      return;
    }
  }
  if (end <= 0x7f) {
    out.push([[start, end]]);
    return;
  }
  // Split so that all but a prefix of continuation bytes span the full 0x80–0xBF range.
  for (let i = 1; i < 4; i++) {
    const mask = (1 << (6 * i)) - 1;
    if ((start & ~mask) !== (end & ~mask)) {
      if ((start & mask) !== 0) {
        split(start, start | mask, out);
        split((start | mask) + 1, end, out);
        return;
      }
      if ((end & mask) !== mask) {
        split(start, (end & ~mask) - 1, out);
        split(end & ~mask, end, out);
        return;
      }
    }
  }
  const startBytes = encode(start);
  const endBytes = encode(end);
  const sequence: ByteRangeSequence = [];
  for (let i = 0; i < startBytes.length; i++) sequence.push([startBytes[i], endBytes[i]]);
  out.push(sequence);
}

/** Byte-range sequences whose union is exactly the UTF-8 encodings of the scalars in [start, end]. */
export function utf8Sequences(start: number, end: number): ByteRangeSequence[] {
  const out: ByteRangeSequence[] = [];
  const lo = Math.max(0, start);
  const hi = Math.min(MAX_SCALAR, end);
  if (lo <= hi) split(lo, hi, out);
  return out;
}

/** Sorted, merged, non-overlapping ranges; `negated` complements over all scalar values. */
export function normalizeRanges(ranges: ReadonlyArray<readonly [number, number]>, negated: boolean): Array<[number, number]> {
  const sorted = ranges
    .map(([a, b]) => [Math.max(0, Math.min(a, b)), Math.min(MAX_SCALAR, Math.max(a, b))] as [number, number])
    .sort((x, y) => x[0] - y[0]);
  const merged: Array<[number, number]> = [];
  for (const range of sorted) {
    const last = merged[merged.length - 1];
    if (last && range[0] <= last[1] + 1) last[1] = Math.max(last[1], range[1]);
    else merged.push([range[0], range[1]]);
  }
  if (!negated) return merged;
  const complement: Array<[number, number]> = [];
  let next = 0;
  for (const [a, b] of merged) {
    if (a > next) complement.push([next, a - 1]);
    next = b + 1;
  }
  if (next <= MAX_SCALAR) complement.push([next, MAX_SCALAR]);
  return complement;
}

export function encodeUtf8(codePoint: number): number[] {
  return encode(codePoint);
}

/**
 * The ranges plus the other ASCII case of every ASCII letter in them (not normalised). Used for ASCII
 * ignore-case matching by the JSON Schema formats and the policy regex rules.
 */
export function withAsciiCaseVariants(ranges: ReadonlyArray<readonly [number, number]>): Array<[number, number]> {
  const extra: Array<[number, number]> = [];
  for (const [low, high] of ranges) {
    const upperLow = Math.max(low, 0x41);
    const upperHigh = Math.min(high, 0x5a);
    if (upperLow <= upperHigh) extra.push([upperLow + 32, upperHigh + 32]);
    const lowerLow = Math.max(low, 0x61);
    const lowerHigh = Math.min(high, 0x7a);
    if (lowerLow <= lowerHigh) extra.push([lowerLow - 32, lowerHigh - 32]);
  }
  return [...ranges.map(([low, high]) => [low, high] as [number, number]), ...extra];
}
