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
  /** starts[i], ends[i]: the original range that folded character (UTF-16 unit) i came from. */
  starts: ArrayLike<number>;
  ends: ArrayLike<number>;
}

const INVISIBLE = /^[\p{Cf}\u00AD\u034F\u115F\u1160\u17B4\u17B5\u180B-\u180F\u3164\uFE00-\uFE0F\uFFA0]$/u;
const COMBINING_MARK = /\p{M}/gu;
const WORD_CHAR = /^[\p{L}\p{N}]$/u;
const LETTER_CHAR = /^\p{L}$/u;
const WHITESPACE = /^\s$/u;
const SPACING_SEPARATORS = new Set([' ', '.', '-', '_', '*', '/', '·', '\u00A0'].map((char) => char.codePointAt(0)!));

const toCodeMap = (table: Readonly<Record<string, string>>) =>
  new Map(Object.entries(table).map(([from, to]) => [from.codePointAt(0)!, to.codePointAt(0)!]));
const HOMOGLYPH_CODES = toCodeMap(HOMOGLYPHS);
const LEET_DIGIT_CODES = toCodeMap(LEET_DIGITS);
const LEET_SYMBOL_CODES = toCodeMap(LEET_SYMBOLS);
const SKELETON_CODES = toCodeMap(SKELETON_LETTERS);

/** ASCII fast paths: most text is ASCII, and a regex test per character is the cost that matters. */
function isLetter(code: number): boolean {
  if (code < 0) return false;
  if (code < 128) return (code >= 97 && code <= 122) || (code >= 65 && code <= 90);
  return LETTER_CHAR.test(String.fromCodePoint(code));
}

function isWordCode(code: number): boolean {
  if (code < 0) return false;
  if (code < 128) return (code >= 97 && code <= 122) || (code >= 48 && code <= 57) || (code >= 65 && code <= 90);
  return WORD_CHAR.test(String.fromCodePoint(code));
}

function isSpaceCode(code: number): boolean {
  if (code < 128) return code === 32 || (code >= 9 && code <= 13);
  return WHITESPACE.test(String.fromCodePoint(code));
}

/** The original-text span of folded characters [from, to). */
export function originalSpan(normalized: NormalizedText, from: number, to: number): [number, number] {
  return [normalized.starts[from], normalized.ends[to - 1]];
}

export function normalizeForMatching(text: string, options: NormalizeOptions = {}): NormalizedText {
  const leetspeak = options.leetspeak ?? true;
  const confusables = options.confusables ?? true;
  const spacing = options.spacing ?? true;

  // Folded code points with their original ranges, in typed arrays: this runs over every character.
  let capacity = text.length + 16;
  let codes = new Int32Array(capacity);
  let starts = new Int32Array(capacity);
  let ends = new Int32Array(capacity);
  let length = 0;
  const push = (code: number, start: number, end: number) => {
    if (length === capacity) {
      capacity *= 2;
      const grow = (array: Int32Array) => {
        const next = new Int32Array(capacity);
        next.set(array);
        return next;
      };
      codes = grow(codes);
      starts = grow(starts);
      ends = grow(ends);
    }
    codes[length] = code;
    starts[length] = start;
    ends[length] = end;
    length++;
  };

  // Pass 1: per code point — drop invisibles, NFKD, strip marks, lower-case, homoglyphs.
  for (let index = 0; index < text.length; ) {
    const code = text.charCodeAt(index);
    if (code < 128) {
      push(code >= 65 && code <= 90 ? code + 32 : code, index, index + 1);
      index++;
      continue;
    }
    const codePoint = text.codePointAt(index)!;
    const start = index;
    index += codePoint > 0xffff ? 2 : 1;
    const char = String.fromCodePoint(codePoint);
    if (INVISIBLE.test(char)) continue;
    const folded = char.normalize('NFKD').replace(COMBINING_MARK, '').toLowerCase();
    for (const piece of folded) {
      const pieceCode = piece.codePointAt(0)!;
      push(confusables ? HOMOGLYPH_CODES.get(pieceCode) ?? pieceCode : pieceCode, start, index);
    }
  }

  // Pass 2: leetspeak. Digits fold when touching a letter ("b4d", not "2024"); symbols when a word follows.
  if (leetspeak) {
    let before = -1;
    for (let i = 0; i < length; i++) {
      const current = codes[i];
      const after = i + 1 < length ? codes[i + 1] : -1;
      let folded = current;
      const digit = LEET_DIGIT_CODES.get(current);
      if (digit !== undefined) {
        if (isLetter(before) || isLetter(after)) folded = digit;
      } else {
        const symbol = LEET_SYMBOL_CODES.get(current);
        if (symbol !== undefined && after >= 0 && (isLetter(after) || LEET_DIGIT_CODES.has(after))) folded = symbol;
      }
      before = current;
      codes[i] = SKELETON_CODES.get(folded) ?? folded;
    }
  }

  // Pass 3: spacing tricks — a run of >= 3 single word characters separated by one separator collapses.
  if (spacing) {
    const word = new Uint8Array(length);
    for (let i = 0; i < length; i++) word[i] = isWordCode(codes[i]) ? 1 : 0;
    const singleAt = (position: number) =>
      position < length && word[position] === 1 && (position === 0 || word[position - 1] === 0) && (position + 1 >= length || word[position + 1] === 0);
    const drop = new Uint8Array(length);
    let dropped = 0;
    let i = 0;
    while (i < length) {
      if (!singleAt(i)) {
        i++;
        continue;
      }
      let position = i;
      let count = 1;
      while (position + 2 < length && SPACING_SEPARATORS.has(codes[position + 1]) && singleAt(position + 2)) {
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
      let write = 0;
      for (let read = 0; read < length; read++) {
        if (drop[read] === 1) continue;
        codes[write] = codes[read];
        starts[write] = starts[read];
        ends[write] = ends[read];
        write++;
      }
      length = write;
    }
  }

  // Pass 4: whitespace runs become one space; build the folded string. starts/ends are then indexed by
  // UTF-16 code unit of the folded text (an astral character takes two).
  const units: number[] = [];
  const outStarts = new Int32Array(length * 2 + 1);
  const outEnds = new Int32Array(length * 2 + 1);
  let out = 0;
  let lastWasSpace = false;
  for (let i = 0; i < length; i++) {
    const code = codes[i];
    if (isSpaceCode(code)) {
      if (lastWasSpace) {
        outEnds[out - 1] = ends[i];
        continue;
      }
      lastWasSpace = true;
      units.push(32);
      outStarts[out] = starts[i];
      outEnds[out] = ends[i];
      out++;
      continue;
    }
    lastWasSpace = false;
    if (code > 0xffff) {
      const offset = code - 0x10000;
      units.push(0xd800 + (offset >> 10), 0xdc00 + (offset & 0x3ff));
      outStarts[out] = starts[i];
      outEnds[out] = ends[i];
      out++;
    } else units.push(code);
    outStarts[out] = starts[i];
    outEnds[out] = ends[i];
    out++;
  }
  let folded = '';
  for (let index = 0; index < units.length; index += 8192) folded += String.fromCharCode(...units.slice(index, index + 8192));
  return { text: folded, starts: outStarts.subarray(0, out), ends: outEnds.subarray(0, out) };
}
