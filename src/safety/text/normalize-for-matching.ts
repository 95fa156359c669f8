/**
 * normalizeForMatching: folds text into the form blocklists and allowlists are matched in — NFKC
 * compatibility forms, case, diacritics, invisible characters, homoglyphs (confusables), leetspeak,
 * runs of whitespace, and spacing tricks ("b a d", "b.a.d", "b-a-d") — while keeping, for every
 * folded character, the [start, end) range of the original text it came from, so that a match in
 * the folded text maps back to a span of what the user actually wrote.
 *
 * Linear in the input: every step is a single pass over an array.
 */
import { HOMOGLYPHS, LEET_DIGITS, LEET_SYMBOLS, SKELETON_LETTERS } from './confusables';

export interface NormalizeOptions {
  /** Fold leetspeak digits and symbols (default true). */
  leetspeak?: boolean;
  /** Fold homoglyphs (default true). */
  confusables?: boolean;
  /** Collapse "b a d" into "bad" (default true). */
  spacing?: boolean;
}

export interface NormalizedText {
  text: string;
  /** starts[i], ends[i]: the original range that folded character i came from. */
  starts: number[];
  ends: number[];
}

const INVISIBLE = /^[\p{Cf}\u00AD\u034F\u115F\u1160\u17B4\u17B5\u180B-\u180F\u3164\uFE00-\uFE0F\uFFA0]$/u;
const COMBINING_MARK = /\p{M}/gu;
const WORD_CHAR = /^[\p{L}\p{N}]$/u;
const LETTER_CHAR = /^\p{L}$/u;
const SPACING_SEPARATORS = new Set([' ', '.', '-', '_', '*', '/', '·', '\u00A0']);
const WHITESPACE = /^\s$/u;

/** ASCII fast paths: most text is ASCII, and a regex test per character is the cost that matters. */
function isLetter(char: string | undefined): boolean {
  if (char === undefined) return false;
  const code = char.charCodeAt(0);
  if (code < 128) return (code >= 97 && code <= 122) || (code >= 65 && code <= 90);
  return LETTER_CHAR.test(char);
}

function isWordChar(char: string | undefined): boolean {
  if (char === undefined) return false;
  const code = char.charCodeAt(0);
  if (code < 128) return (code >= 97 && code <= 122) || (code >= 48 && code <= 57) || (code >= 65 && code <= 90);
  return WORD_CHAR.test(char);
}

function isSpace(char: string): boolean {
  const code = char.charCodeAt(0);
  if (code < 128) return code === 32 || (code >= 9 && code <= 13);
  return WHITESPACE.test(char);
}

/** The original-text span of folded characters [from, to). */
export function originalSpan(normalized: NormalizedText, from: number, to: number): [number, number] {
  return [normalized.starts[from], normalized.ends[to - 1]];
}

export function normalizeForMatching(text: string, options: NormalizeOptions = {}): NormalizedText {
  const leetspeak = options.leetspeak ?? true;
  const confusables = options.confusables ?? true;
  const spacing = options.spacing ?? true;

  // Pass 1: per code point — drop invisibles, NFKD, strip marks, lower-case, homoglyphs.
  // Parallel arrays (one folded code point each) rather than objects: this runs on every byte.
  let chars: string[] = [];
  let starts: number[] = [];
  let ends: number[] = [];
  for (let index = 0; index < text.length; ) {
    const code = text.charCodeAt(index);
    if (code < 128) {
      chars.push(code >= 65 && code <= 90 ? String.fromCharCode(code + 32) : text[index]);
      starts.push(index);
      ends.push(index + 1);
      index++;
      continue;
    }
    const codePoint = String.fromCodePoint(text.codePointAt(index)!);
    const start = index;
    index += codePoint.length;
    if (INVISIBLE.test(codePoint)) continue;
    const folded = codePoint.normalize('NFKD').replace(COMBINING_MARK, '').toLowerCase();
    for (const char of folded) {
      chars.push(confusables ? HOMOGLYPHS[char] ?? char : char);
      starts.push(start);
      ends.push(index);
    }
  }

  // Pass 2: leetspeak. Digits fold when touching a letter ("b4d", not "2024"); symbols when a word follows.
  if (leetspeak) {
    let before: string | undefined;
    for (let i = 0; i < chars.length; i++) {
      const current = chars[i];
      const after = chars[i + 1];
      const digit = LEET_DIGITS[current];
      const symbol = LEET_SYMBOLS[current];
      let folded = current;
      if (digit !== undefined && (isLetter(before) || isLetter(after))) folded = digit;
      else if (symbol !== undefined && after !== undefined && (isLetter(after) || LEET_DIGITS[after] !== undefined)) folded = symbol;
      before = current;
      chars[i] = SKELETON_LETTERS[folded] ?? folded;
    }
  }

  // Pass 3: spacing tricks — a run of >= 3 single word characters separated by one separator collapses.
  if (spacing) {
    const drop = new Uint8Array(chars.length);
    let dropped = 0;
    const singleAt = (position: number) => isWordChar(chars[position]) && !isWordChar(chars[position - 1]) && !isWordChar(chars[position + 1]);
    let i = 0;
    while (i < chars.length) {
      if (!singleAt(i)) {
        i++;
        continue;
      }
      let position = i;
      let count = 1;
      while (position + 2 < chars.length && SPACING_SEPARATORS.has(chars[position + 1]) && singleAt(position + 2)) {
        position += 2;
        count++;
      }
      if (count >= 3) {
        for (let k = i + 1; k < position; k += 2) drop[k] = 1;
        dropped += count - 1;
      }
      i = position + 1;
    }
    if (dropped > 0) {
      const keep = (_: unknown, position: number) => drop[position] === 0;
      chars = chars.filter(keep);
      starts = starts.filter(keep);
      ends = ends.filter(keep);
    }
  }

  // Pass 4: whitespace runs become one space. starts/ends are then indexed by UTF-16 code unit of the
  // folded text (an astral character takes two).
  const outChars: string[] = [];
  const outStarts: number[] = [];
  const outEnds: number[] = [];
  let lastWasSpace = false;
  for (let i = 0; i < chars.length; i++) {
    const char = chars[i];
    if (isSpace(char)) {
      if (lastWasSpace) {
        outEnds[outEnds.length - 1] = ends[i];
        continue;
      }
      lastWasSpace = true;
      outChars.push(' ');
      outStarts.push(starts[i]);
      outEnds.push(ends[i]);
      continue;
    }
    lastWasSpace = false;
    outChars.push(char);
    for (let unit = 0; unit < char.length; unit++) {
      outStarts.push(starts[i]);
      outEnds.push(ends[i]);
    }
  }
  return { text: outChars.join(''), starts: outStarts, ends: outEnds };
}
