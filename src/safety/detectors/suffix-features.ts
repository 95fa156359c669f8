/**
 * Character-level features of GCG-style "token soup" for the adversarial-suffix detector, computed over sliding
 * windows of whitespace tokens: symbol density, bracket/quote density, tokens that are not words (internal symbols,
 * letter–digit mixes), intra-word case changes (camelCase soup), out-of-vocabulary rate against a 12k English word
 * list (models/guards/english-words.txt), unbalanced brackets, and line breaks (code has them, soup does not).
 * No feature grows with the length of the text: every one is a ratio within a fixed-size window.
 */
import fs from 'node:fs';
import path from 'node:path';

export const SUFFIX_WINDOW_TOKENS = 10;
export const SUFFIX_WINDOW_STRIDE = 2;
/** Tokens scanned at most (the rest of a very long prompt is skipped; the suffix of a prompt is always scanned). */
export const SUFFIX_MAX_TOKENS = 4000;

export const SUFFIX_FEATURE_NAMES = [
  'symbol_ratio',
  'bracket_ratio',
  'nonword_tokens',
  'case_changes',
  'oov_words',
  'unbalanced',
  'newlines',
  'short_fragments',
  'shape_diversity',
  'glued_words',
  'repeated_tokens',
  'compound_oov',
  'rest_nonword',
  'lm_nll',
] as const;

/** Prefix sums of per-character negative log-probabilities under a character LM (index i = sum over [0, i)). */
export function nllPrefixSums(length: number, scores: Array<{ start: number; end: number; logprob: number }>): Float64Array {
  const perChar = new Float64Array(length);
  for (const score of scores) if (score.start < length) perChar[score.start] += -score.logprob;
  const prefix = new Float64Array(length + 1);
  for (let index = 0; index < length; index++) prefix[index + 1] = prefix[index] + perChar[index];
  return prefix;
}

export interface TokenSpan {
  text: string;
  start: number;
  end: number;
  /** The token is followed by a line break. */
  lineEnd: boolean;
}

let vocabulary: Set<string> | undefined;

export function loadVocabulary(modelsDir: string): Set<string> {
  if (!vocabulary) {
    const file = path.join(modelsDir, 'guards', 'english-words.txt');
    vocabulary = new Set(fs.readFileSync(file, 'utf8').split('\n').filter(Boolean));
  }
  return vocabulary;
}

export function tokenize(text: string): TokenSpan[] {
  const tokens: TokenSpan[] = [];
  const pattern = /\S+/g;
  for (let match = pattern.exec(text); match !== null; match = pattern.exec(text)) {
    const end = match.index + match[0].length;
    let lineEnd = false;
    for (let k = end; k < text.length && k < end + 4; k++) {
      const character = text[k];
      if (character === '\n') {
        lineEnd = true;
        break;
      }
      if (character !== ' ' && character !== '\t' && character !== '\r') break;
    }
    tokens.push({ text: match[0], start: match.index, end, lineEnd });
  }
  if (tokens.length > SUFFIX_MAX_TOKENS) {
    // Keep the head and the tail: a suffix attack sits at the end.
    return [...tokens.slice(0, SUFFIX_MAX_TOKENS / 2), ...tokens.slice(tokens.length - SUFFIX_MAX_TOKENS / 2)];
  }
  return tokens;
}

const PLAIN_WORD = /^["'(]?[A-Za-z]+(['’][a-z]+)?[.,;:!?'")]{0,2}$/;
const NUMBER = /^[($]?\d+([.,:/-]\d+)*[%)]?[.,;:]?$/;

interface TokenFeatures {
  symbols: number;
  brackets: number;
  characters: number;
  nonword: boolean;
  caseChanges: number;
  alphaWord: string | undefined;
  opens: number;
  closes: number;
  lineEnd: boolean;
  shortFragment: boolean;
  shape: string;
  glued: boolean;
  compoundOov: boolean;
}

/** A token's shape: letters → a/A, digits → 9, other characters kept, runs collapsed ("StringBuilder(@" → "AaAa(@"). */
function tokenShape(text: string): string {
  return text
    .replace(/[a-z]+/g, 'a')
    .replace(/[A-Z]+/g, 'A')
    .replace(/[0-9]+/g, '9')
    .replace(/[^\x00-\x7f]+/g, 'u')
    .slice(0, 12);
}

/** "threeinner", "haswithdefine": an unknown word made of two known ones (GCG glues sub-word tokens). */
function isCompoundOov(word: string, vocabularySet: Set<string>): boolean {
  if (word.length < 7 || vocabularySet.has(word)) return false;
  for (let cut = 3; cut <= word.length - 3; cut++) {
    if (vocabularySet.has(word.slice(0, cut)) && vocabularySet.has(word.slice(cut))) return true;
  }
  return false;
}

function tokenFeatures(token: TokenSpan, vocabularySet: Set<string>): TokenFeatures {
  const text = token.text;
  let symbols = 0;
  let brackets = 0;
  let opens = 0;
  let closes = 0;
  let caseChanges = 0;
  for (let k = 0; k < text.length; k++) {
    const character = text[k];
    const code = text.charCodeAt(k);
    const alnum = (code >= 48 && code <= 57) || (code >= 65 && code <= 90) || (code >= 97 && code <= 122) || code > 127;
    if (!alnum) symbols++;
    if ('[]{}()<>"\'`\\|'.includes(character)) brackets++;
    if ('[{(<'.includes(character)) opens++;
    if (']})>'.includes(character)) closes++;
    if (k > 0 && code >= 65 && code <= 90) {
      const previous = text.charCodeAt(k - 1);
      if (previous >= 97 && previous <= 122) caseChanges++;
    }
  }
  const bare = text.replace(/^[^A-Za-z]+|[^A-Za-z]+$/g, '');
  const alphaWord = /^[a-z]+$/.test(bare) ? bare : undefined;
  const lowered = bare.toLowerCase();
  return {
    shape: tokenShape(text),
    // Letters with symbols on both sides or symbols inside a word: "]$.", "***Here<=", "x}^{(".
    glued: /[A-Za-z][^A-Za-z0-9\s'’.,;:!?-]+[A-Za-z]|[^A-Za-z0-9\s'’"(.,;:!?-]{2,}[A-Za-z]|[A-Za-z][^A-Za-z0-9\s'’".,;:!?)-]{2,}/.test(text),
    compoundOov: /^[a-z]+$/.test(lowered) && isCompoundOov(lowered, vocabularySet),
    symbols,
    brackets,
    characters: text.length,
    nonword: !PLAIN_WORD.test(text) && !NUMBER.test(text),
    caseChanges,
    alphaWord,
    opens,
    closes,
    lineEnd: token.lineEnd,
    shortFragment: /^[A-Za-z]{1,2}$/.test(text) && !/^(a|i|an|as|at|be|by|do|go|he|if|in|is|it|me|my|no|of|on|or|so|to|up|us|we|am|ok|vs|tv|uk|us|eu|ai|id|pm|km|cm|mm|kg)$/i.test(text),
  };
}

/** Feature vectors for each window; `start`/`end` are character offsets of the window. */
export function windowFeatures(text: string, vocabularySet: Set<string>, nllPrefix?: Float64Array): Array<{ start: number; end: number; features: number[] }> {
  const tokens = tokenize(text);
  if (tokens.length === 0) return [];
  const perToken = tokens.map((token) => tokenFeatures(token, vocabularySet));
  const windows: Array<{ start: number; end: number; features: number[] }> = [];
  const size = Math.min(SUFFIX_WINDOW_TOKENS, tokens.length);
  const starts: number[] = [];
  for (let start = 0; start + size <= tokens.length; start += SUFFIX_WINDOW_STRIDE) starts.push(start);
  if (starts[starts.length - 1] !== tokens.length - size) starts.push(tokens.length - size);
  // Non-word share of the rest of the text: a soup window after plain prose (an appended suffix) differs from a
  // window of a document that is code or a table throughout.
  let totalNonword = 0;
  for (const features of perToken) if (features.nonword) totalNonword++;
  for (const start of starts) {
    let symbols = 0;
    let brackets = 0;
    let characters = 0;
    let nonword = 0;
    let caseChanges = 0;
    let alpha = 0;
    let oov = 0;
    let opens = 0;
    let closes = 0;
    let lineEnds = 0;
    let fragments = 0;
    let glued = 0;
    let compound = 0;
    const shapes = new Set<string>();
    const distinct = new Set<string>();
    for (let k = start; k < start + size; k++) {
      const features = perToken[k];
      shapes.add(features.shape);
      distinct.add(tokens[k].text);
      if (features.glued) glued++;
      if (features.compoundOov) compound++;
      symbols += features.symbols;
      brackets += features.brackets;
      characters += features.characters;
      if (features.nonword) nonword++;
      caseChanges += features.caseChanges;
      if (features.alphaWord !== undefined) {
        alpha++;
        if (!vocabularySet.has(features.alphaWord)) oov++;
      }
      opens += features.opens;
      closes += features.closes;
      if (features.lineEnd && k < start + size - 1) lineEnds++;
      if (features.shortFragment) fragments++;
    }
    windows.push({
      start: tokens[start].start,
      end: tokens[start + size - 1].end,
      features: [
        symbols / Math.max(1, characters),
        brackets / size,
        nonword / size,
        caseChanges / size,
        alpha ? oov / alpha : 0,
        Math.abs(opens - closes) / size,
        lineEnds / size,
        fragments / size,
        shapes.size / size,
        glued / size,
        1 - distinct.size / size,
        compound / size,
        tokens.length > size ? (totalNonword - nonword) / (tokens.length - size) : 0,
        nllPrefix && tokens[start + size - 1].end < nllPrefix.length
          ? (nllPrefix[tokens[start + size - 1].end] - nllPrefix[tokens[start].start]) / Math.max(1, tokens[start + size - 1].end - tokens[start].start)
          : 0,
      ],
    });
  }
  return windows;
}
