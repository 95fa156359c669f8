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

interface FoldedChar {
  char: string;
  start: number;
  end: number;
}

const INVISIBLE = /^[\p{Cf}\u00AD\u034F\u115F\u1160\u17B4\u17B5\u180B-\u180F\u3164\uFE00-\uFE0F\uFFA0]$/u;
const COMBINING_MARK = /\p{M}/gu;
const WORD_CHAR = /^[\p{L}\p{N}]$/u;
const LETTER = /^\p{L}$/u;
const SPACING_SEPARATORS = new Set([' ', '.', '-', '_', '*', '/', '·', '\u00A0']);
const WHITESPACE = /^\s$/u;

function isWord(folded: FoldedChar | undefined): boolean {
  return folded !== undefined && WORD_CHAR.test(folded.char);
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
  let chars: FoldedChar[] = [];
  let index = 0;
  for (const codePoint of text) {
    const start = index;
    index += codePoint.length;
    if (INVISIBLE.test(codePoint)) continue;
    const folded = codePoint.normalize('NFKD').replace(COMBINING_MARK, '').toLowerCase();
    for (const char of folded) {
      chars.push({ char: confusables ? HOMOGLYPHS[char] ?? char : char, start, end: index });
    }
  }

  // Pass 2: leetspeak. Digits fold when touching a letter ("b4d", not "2024"); symbols when a word follows.
  if (leetspeak) {
    const next: FoldedChar[] = [];
    for (let i = 0; i < chars.length; i++) {
      const current = chars[i];
      const before = chars[i - 1];
      const after = chars[i + 1];
      const digit = LEET_DIGITS[current.char];
      const symbol = LEET_SYMBOLS[current.char];
      const touchesLetter = (before !== undefined && LETTER.test(before.char)) || (after !== undefined && LETTER.test(after.char));
      if (digit !== undefined && touchesLetter) next.push({ ...current, char: digit });
      else if (symbol !== undefined && after !== undefined && (LETTER.test(after.char) || LEET_DIGITS[after.char] !== undefined)) {
        next.push({ ...current, char: symbol });
      } else next.push(current);
    }
    chars = next.map((folded) => ({ ...folded, char: SKELETON_LETTERS[folded.char] ?? folded.char }));
  }

  // Pass 3: spacing tricks — a run of >= 3 single word characters separated by one separator collapses.
  if (spacing) {
    const drop = new Uint8Array(chars.length);
    let i = 0;
    while (i < chars.length) {
      const singleAt = (position: number) => isWord(chars[position]) && !isWord(chars[position - 1]) && !isWord(chars[position + 1]);
      if (!singleAt(i)) {
        i++;
        continue;
      }
      const run = [i];
      let position = i;
      while (
        position + 2 < chars.length &&
        SPACING_SEPARATORS.has(chars[position + 1].char) &&
        singleAt(position + 2)
      ) {
        position += 2;
        run.push(position);
      }
      if (run.length >= 3) {
        for (let k = 0; k + 1 < run.length; k++) drop[run[k] + 1] = 1;
      }
      i = position + 1;
    }
    chars = chars.filter((_, position) => drop[position] === 0);
  }

  // Pass 4: whitespace runs become one space.
  const result: FoldedChar[] = [];
  for (const folded of chars) {
    if (WHITESPACE.test(folded.char)) {
      const last = result[result.length - 1];
      if (last !== undefined && last.char === ' ') {
        last.end = folded.end;
        continue;
      }
      result.push({ char: ' ', start: folded.start, end: folded.end });
    } else result.push(folded);
  }

  // starts/ends are indexed by UTF-16 code unit of the folded text (an astral character takes two).
  const starts: number[] = [];
  const ends: number[] = [];
  for (const folded of result) {
    for (let unit = 0; unit < folded.char.length; unit++) {
      starts.push(folded.start);
      ends.push(folded.end);
    }
  }
  return { text: result.map((folded) => folded.char).join(''), starts, ends };
}
