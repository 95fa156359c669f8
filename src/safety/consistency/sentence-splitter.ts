/**
 * splitSentences: splits an answer into sentences with their offsets, for per-sentence consistency and
 * grounding scores. A sentence ends at `.`, `!`, `?` (or a run of them, plus closing quotes/brackets)
 * followed by whitespace and a capital letter, digit or opening quote — unless the word before the period
 * is a known abbreviation ("Dr.", "e.g.", "Jan."), an initial ("J. R. R. Tolkien"), or a dotted acronym
 * ("U.S."). Decimal numbers ("3.5") never split because no whitespace follows the period. Line breaks
 * always end a sentence (lists, headings). Known weak spot: a sentence that really ends with a single
 * capital letter ("vitamin C. The…") is not split. Linear time; no backtracking regexes.
 */
import { keepsPeriod } from './word-tokenizer';

export interface SentenceSpan {
  text: string;
  /** [start, end) offsets into the split string (UTF-16 code units), trimmed of surrounding whitespace. */
  start: number;
  end: number;
}

const TERMINATORS = new Set(['.', '!', '?', '…']);
const CLOSERS = new Set(['"', "'", '”', '’', ')', ']', '»']);
const OPENERS = new Set(['"', "'", '“', '‘', '(', '[', '«']);

function isSentenceStart(character: string | undefined): boolean {
  return character !== undefined && /[\p{Lu}\p{N}]/u.test(character);
}

/** The whitespace-delimited word that ends at `end` (exclusive). */
function wordBefore(text: string, end: number): string {
  let start = end;
  while (start > 0 && !/\s/.test(text[start - 1])) start--;
  return text.slice(start, end);
}

function pushTrimmed(text: string, start: number, end: number, out: SentenceSpan[]): void {
  while (start < end && /\s/.test(text[start])) start++;
  while (end > start && /\s/.test(text[end - 1])) end--;
  if (end > start) out.push({ text: text.slice(start, end), start, end });
}

export function splitSentences(text: string): SentenceSpan[] {
  const out: SentenceSpan[] = [];
  let sentenceStart = 0;
  let i = 0;
  while (i < text.length) {
    const character = text[i];
    if (character === '\n') {
      pushTrimmed(text, sentenceStart, i, out);
      sentenceStart = i + 1;
      i++;
      continue;
    }
    if (!TERMINATORS.has(character)) {
      i++;
      continue;
    }
    // The run of terminators and closers: "?!", '."', '.)'.
    let end = i + 1;
    while (end < text.length && TERMINATORS.has(text[end])) end++;
    while (end < text.length && CLOSERS.has(text[end])) end++;
    if (end < text.length && !/\s/.test(text[end])) {
      i = end;
      continue;
    }
    let next = end;
    while (next < text.length && /[ \t\r\f\v]/.test(text[next])) next++;
    let startCharacter = next;
    while (startCharacter < text.length && OPENERS.has(text[startCharacter])) startCharacter++;
    const atEnd = next >= text.length || text[next] === '\n';
    const period = character === '.' && end === i + 1;
    const abbreviation = period && keepsPeriod(wordBefore(text, i + 1).replace(/^[("'“‘[]+/u, ''));
    if (atEnd || (isSentenceStart(text[startCharacter]) && !abbreviation)) {
      pushTrimmed(text, sentenceStart, end, out);
      sentenceStart = end;
    }
    i = end;
  }
  pushTrimmed(text, sentenceStart, text.length, out);
  return out;
}
