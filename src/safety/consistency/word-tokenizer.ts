/**
 * tokenizeWords: a spaCy-like English word tokenizer (whitespace split, then prefix/suffix punctuation,
 * clitics such as `'s` and `n't`, and infix hyphens/slashes between letters), with offsets.
 * SelfCheckGPT's n-gram models count spaCy tokens; this approximates `en_core_web_sm`'s tokenizer closely
 * enough for the n-gram scores (the paper's figures are reproduced within about a point). It is linear
 * in the input length: no regex here can backtrack on user text (each pattern is anchored and bounded).
 */

export interface WordToken {
  text: string;
  /** [start, end) offsets into the tokenized string (UTF-16 code units). */
  start: number;
  end: number;
}

const PREFIX_CHARS = new Set(['(', '[', '{', '"', "'", '`', '“', '‘', '«', '$', '£', '€', '¥', '#', '<', '¡', '¿', '*', '…', '~', '§']);
const SUFFIX_CHARS = new Set([')', ']', '}', '"', "'", '”', '’', '»', ',', ';', ':', '!', '?', '%', '…', '>', '*']);
const CLITICS = ["n't", 'n’t', "'s", '’s', "'re", '’re', "'ve", '’ve', "'ll", '’ll', "'d", '’d', "'m", '’m'];
/** Abbreviations whose trailing period belongs to the word (lower case, without the period). */
export const ABBREVIATIONS = new Set([
  'mr', 'mrs', 'ms', 'dr', 'prof', 'sr', 'jr', 'st', 'mt', 'ft', 'gen', 'col', 'lt', 'sgt', 'capt', 'cmdr', 'gov', 'sen', 'rep',
  'rev', 'hon', 'pres', 'inc', 'ltd', 'corp', 'bros', 'vs', 'etc', 'al', 'approx', 'dept', 'vol',
  'fig', 'figs', 'eq', 'jan', 'feb', 'apr', 'jun', 'jul', 'aug', 'sep', 'sept', 'oct', 'nov', 'dec',
  'tue', 'thu', 'ave', 'blvd', 'e.g', 'i.e', 'cf', 'pp',
]);

function isLetter(character: string | undefined): boolean {
  return character !== undefined && /\p{L}/u.test(character);
}

function isAlnum(character: string | undefined): boolean {
  return character !== undefined && /[\p{L}\p{N}]/u.test(character);
}

/** Longest word the period rules look at: abbreviations and dotted acronyms are short. */
const MAX_ABBREVIATION_CHARS = 24;
/** A whitespace-free chunk longer than this is one token: no punctuation rules on pathological input. */
const MAX_CHUNK_CHARS = 256;

/** True when a word ending in '.' keeps its period (abbreviation, initial, or dotted acronym like u.s.). */
export function keepsPeriod(word: string): boolean {
  if (!word.endsWith('.') || word.length < 2 || word.length > MAX_ABBREVIATION_CHARS) return false;
  const stem = word.slice(0, -1).toLowerCase();
  if (ABBREVIATIONS.has(stem)) return true;
  // Initials and dotted acronyms: "j.", "u.s.", "e.g." — single letters separated by periods.
  return /^(?:\p{L}\.)*\p{L}$/u.test(stem);
}

const INFIX_HYPHENS = new Set(['-', '–', '—', '~', '/']);

function splitInfixes(text: string, offset: number, out: WordToken[]): void {
  let begin = 0;
  for (let i = 1; i < text.length - 1; i++) {
    const character = text[i];
    const splits =
      (INFIX_HYPHENS.has(character) && isAlnum(text[i - 1]) && isLetter(text[i + 1])) ||
      (character === ',' && isLetter(text[i - 1]) && isLetter(text[i + 1])) ||
      (character === '.' && /\p{Ll}/u.test(text[i - 1]) && /\p{Lu}/u.test(text[i + 1]));
    if (!splits) continue;
    if (i > begin) out.push({ text: text.slice(begin, i), start: offset + begin, end: offset + i });
    out.push({ text: character, start: offset + i, end: offset + i + 1 });
    begin = i + 1;
  }
  if (begin < text.length) out.push({ text: text.slice(begin), start: offset + begin, end: offset + text.length });
}

function tokenizeChunk(chunk: string, offset: number, out: WordToken[]): void {
  let start = 0;
  let end = chunk.length;
  const suffixes: WordToken[] = [];
  // Prefixes.
  while (start < end) {
    if (chunk.startsWith('...', start) && end - start > 3) {
      out.push({ text: '...', start: offset + start, end: offset + start + 3 });
      start += 3;
      continue;
    }
    if (PREFIX_CHARS.has(chunk[start]) && end - start > 1) {
      out.push({ text: chunk[start], start: offset + start, end: offset + start + 1 });
      start += 1;
      continue;
    }
    break;
  }
  // Suffixes. Only the tail of the chunk is inspected per step (no slicing of the whole body).
  while (end > start) {
    const length = end - start;
    if (length > 3 && chunk.endsWith('...', end)) {
      suffixes.push({ text: '...', start: offset + end - 3, end: offset + end });
      end -= 3;
      continue;
    }
    const last = chunk[end - 1];
    if (length > 1 && SUFFIX_CHARS.has(last)) {
      suffixes.push({ text: last, start: offset + end - 1, end: offset + end });
      end -= 1;
      continue;
    }
    if (length > 1 && last === '.' && !keepsPeriod(chunk.slice(Math.max(start, end - MAX_ABBREVIATION_CHARS - 1), end))) {
      suffixes.push({ text: '.', start: offset + end - 1, end: offset + end });
      end -= 1;
      continue;
    }
    const tail = chunk.slice(Math.max(start, end - 5), end).toLowerCase();
    const clitic = CLITICS.find((candidate) => tail.endsWith(candidate) && length > candidate.length && isLetter(chunk[end - candidate.length - 1]));
    if (clitic) {
      const cliticLength = clitic.length;
      suffixes.push({ text: chunk.slice(end - cliticLength, end), start: offset + end - cliticLength, end: offset + end });
      end -= cliticLength;
      continue;
    }
    break;
  }
  if (end > start) splitInfixes(chunk.slice(start, end), offset + start, out);
  for (let i = suffixes.length - 1; i >= 0; i--) out.push(suffixes[i]);
}

export function tokenizeWords(text: string): WordToken[] {
  const out: WordToken[] = [];
  const whitespace = /\S+/g;
  let match: RegExpExecArray | null;
  while ((match = whitespace.exec(text)) !== null) {
    if (match[0].length > MAX_CHUNK_CHARS) out.push({ text: match[0], start: match.index, end: match.index + match[0].length });
    else tokenizeChunk(match[0], match.index, out);
  }
  return out;
}
