/**
 * Number ranges as regexes: the exact set of JSON integers in [low, high] (either end open), and the
 * JSON numbers (without exponent) between integer bounds, inclusive or exclusive — what `minimum`,
 * `maximum`, `exclusiveMinimum` and `exclusiveMaximum` become in the grammar.
 *
 * Exactness matters for soundness: every string the regex matches must be a number inside the range.
 * Completeness is relaxed in documented ways only: no `-0`, no exponent forms under bounds, and
 * integers may carry a `.0…` fraction (1.0 is an integer in JSON Schema).
 */

/** Decimal strings of equal length n with a ≤ x ≤ b (both length n, no sign). */
function sameLengthRange(a: string, b: string): string {
  if (a.length === 0) return '';
  if (a === b) return a;
  if (a[0] === b[0]) return `${a[0]}${wrap(sameLengthRange(a.slice(1), b.slice(1)))}`;
  const rest = a.length - 1;
  const parts: string[] = [];
  let low = Number(a[0]);
  let high = Number(b[0]);
  const restAllZero = /^0*$/.test(a.slice(1));
  const restAllNine = /^9*$/.test(b.slice(1));
  if (!restAllZero) {
    parts.push(`${a[0]}${wrap(sameLengthRange(a.slice(1), '9'.repeat(rest)))}`);
    low += 1;
  }
  const trailingHigh = !restAllNine;
  if (trailingHigh) high -= 1;
  if (low <= high) parts.push(`${digitClass(low, high)}${rest > 0 ? (rest === 1 ? '[0-9]' : `[0-9]{${rest}}`) : ''}`);
  if (trailingHigh) parts.push(`${b[0]}${wrap(sameLengthRange('0'.repeat(rest), b.slice(1)))}`);
  return parts.length === 1 ? parts[0] : `(?:${parts.join('|')})`;
}

function wrap(text: string): string {
  return text;
}

function digitClass(low: number, high: number): string {
  if (low === high) return String(low);
  return `[${low}-${high}]`;
}

/** Non-negative integers in [low, high] (high null = unbounded), canonical decimal form, as regex alternatives. */
function nonNegativeRange(low: bigint, high: bigint | null): string[] {
  if (high !== null && high < low) return [];
  const parts: string[] = [];
  const lowText = low.toString();
  if (high !== null) {
    const highText = high.toString();
    if (lowText.length === highText.length) return [sameLengthRange(lowText, highText)];
    parts.push(sameLengthRange(lowText, '9'.repeat(lowText.length)));
    const innerMin = lowText.length + 1;
    const innerMax = highText.length - 1;
    if (innerMin <= innerMax) parts.push(`[1-9][0-9]{${innerMin - 1}${innerMin === innerMax ? '' : `,${innerMax - 1}`}}`);
    parts.push(sameLengthRange(`1${'0'.repeat(highText.length - 1)}`, highText));
    return parts;
  }
  parts.push(sameLengthRange(lowText, '9'.repeat(lowText.length)));
  parts.push(`[1-9][0-9]{${lowText.length},}`);
  return parts;
}

function joinAlternatives(parts: string[]): string | null {
  if (parts.length === 0) return null;
  return parts.length === 1 ? parts[0] : `(?:${parts.join('|')})`;
}

/** Integers in [low, high]; null ends are unbounded. Returns null when the range is empty. */
export function integerRangeRegex(low: bigint | null, high: bigint | null): string | null {
  if (low !== null && high !== null && low > high) return null;
  const parts: string[] = [];
  // negative part: -x with x in [max(1, -high), -low]
  if (low === null || low < 0n) {
    const magnitudeLow = high === null || high >= 0n ? 1n : -high;
    const magnitudeHigh = low === null ? null : -low;
    const negative = joinAlternatives(nonNegativeRange(magnitudeLow, magnitudeHigh));
    if (negative !== null) parts.push(`-${negative}`);
  }
  if (high === null || high >= 0n) {
    const nonNegativeLow = low === null || low < 0n ? 0n : low;
    parts.push(...nonNegativeRange(nonNegativeLow, high));
  }
  return joinAlternatives(parts);
}

type FractionKind = 'any' | 'zero' | 'nonzero';

interface Piece {
  low: bigint;
  high: bigint | null;
  fraction: FractionKind;
}

function intersectKinds(a: FractionKind, b: FractionKind): FractionKind | null {
  if (a === 'any') return b;
  if (b === 'any') return a;
  return a === b ? a : null;
}

/** Pieces (integer part range × fraction kind) for magnitudes m ≥ 0 with m ≥ bound (or > bound). */
function lowerPieces(bound: bigint | null, exclusive: boolean): Piece[] {
  if (bound === null || bound < 0n || (bound === 0n && !exclusive)) return [{ low: 0n, high: null, fraction: 'any' }];
  if (!exclusive) return [{ low: bound, high: null, fraction: 'any' }];
  return [
    { low: bound + 1n, high: null, fraction: 'any' },
    { low: bound, high: bound, fraction: 'nonzero' },
  ];
}

/** Pieces for magnitudes m ≥ 0 with m ≤ bound (or < bound). */
function upperPieces(bound: bigint | null, exclusive: boolean): Piece[] {
  if (bound === null) return [{ low: 0n, high: null, fraction: 'any' }];
  if (bound < 0n || (bound === 0n && exclusive)) return [];
  const pieces: Piece[] = [];
  if (bound >= 1n) pieces.push({ low: 0n, high: bound - 1n, fraction: 'any' });
  if (!exclusive) pieces.push({ low: bound, high: bound, fraction: 'zero' });
  return pieces;
}

/**
 * The zero fraction generation offers after an integer: none. `1.0` and `1.000` are integers from draft 6
 * on, but offering a fraction lets a model write `"born": 2000.0` — or `2000.0000…` until max_tokens
 * (seen with the demo model, which likes a full stop after a number) — where every user expects `2000`.
 * Generation is stricter than validation here, as in other constrained decoders; it stays sound.
 */
export const INTEGER_ZERO_FRACTION = '';

function fractionRegex(kind: FractionKind, maxDigits: number | null): string {
  const digits = maxDigits === null ? '[0-9]+' : maxDigits === 1 ? '[0-9]' : `[0-9]{1,${maxDigits}}`;
  switch (kind) {
    case 'any':
      return `(?:\\.${digits})?`;
    case 'zero':
      // a number at an inclusive integer bound: any number of zeros, like any other fraction of a number
      return '(?:\\.0+)?';
    case 'nonzero': {
      if (maxDigits === null) return '\\.[0-9]*[1-9][0-9]*';
      const options: string[] = [];
      for (let zeros = 0; zeros < maxDigits; zeros++) {
        const tail = maxDigits - 1 - zeros;
        options.push(`${'0'.repeat(zeros)}[1-9]${tail === 0 ? '' : `[0-9]{0,${tail}}`}`);
      }
      return `\\.(?:${options.join('|')})`;
    }
  }
}

/** Magnitudes (no sign) m with lower ⋚ m ⋚ upper, as a regex or null when empty. */
function magnitudeRegex(
  lower: { bound: bigint | null; exclusive: boolean },
  upper: { bound: bigint | null; exclusive: boolean },
  maxFractionDigits: number | null,
): string | null {
  const parts: string[] = [];
  for (const a of lowerPieces(lower.bound, lower.exclusive)) {
    for (const b of upperPieces(upper.bound, upper.exclusive)) {
      const kind = intersectKinds(a.fraction, b.fraction);
      if (kind === null) continue;
      const low = a.low > b.low ? a.low : b.low;
      const high = a.high === null ? b.high : b.high === null ? a.high : a.high < b.high ? a.high : b.high;
      if (high !== null && high < low) continue;
      const integer = joinAlternatives(nonNegativeRange(low, high));
      if (integer === null) continue;
      parts.push(`${integer}${fractionRegex(kind, maxFractionDigits)}`);
    }
  }
  return joinAlternatives(parts);
}

export interface NumberBounds {
  minimum?: { value: bigint; exclusive: boolean };
  maximum?: { value: bigint; exclusive: boolean };
}

/**
 * JSON numbers without exponent whose value lies within integer-valued bounds; `maxFractionDigits`
 * limits the fraction (multipleOf 10^-k). Null when no number fits.
 */
export function boundedNumberRegex(bounds: NumberBounds, maxFractionDigits: number | null = null): string | null {
  const parts: string[] = [];
  const minimum = bounds.minimum;
  const maximum = bounds.maximum;
  // x ≥ 0 side: magnitude m = x.
  if (!maximum || maximum.value > 0n || (maximum.value === 0n && !maximum.exclusive)) {
    const positive = magnitudeRegex(
      { bound: minimum ? minimum.value : null, exclusive: minimum ? minimum.exclusive : false },
      { bound: maximum ? maximum.value : null, exclusive: maximum ? maximum.exclusive : false },
      maxFractionDigits,
    );
    if (positive !== null) parts.push(positive);
  }
  // x < 0 side: m = -x > 0, so -max ⋚ m ⋚ -min, and m must be non-zero.
  if (!minimum || minimum.value < 0n) {
    const lowerBound = maximum && maximum.value < 0n ? { bound: -maximum.value, exclusive: maximum.exclusive } : { bound: 0n, exclusive: true };
    const upperBound = minimum ? { bound: -minimum.value, exclusive: minimum.exclusive } : { bound: null, exclusive: false };
    const negative = magnitudeRegex(lowerBound, upperBound, maxFractionDigits);
    if (negative !== null) parts.push(`-(?:${negative})`);
  }
  return joinAlternatives(parts);
}

/** An unbounded JSON number (JSON grammar, exponent allowed). */
export const JSON_NUMBER_REGEX = '-?(?:0|[1-9][0-9]*)(?:\\.[0-9]+)?(?:[eE][+-]?[0-9]+)?';
/** An unbounded JSON integer (written without a fraction: INTEGER_ZERO_FRACTION). */
export const JSON_INTEGER_REGEX = `-?(?:0|[1-9][0-9]*)${INTEGER_ZERO_FRACTION}`;
