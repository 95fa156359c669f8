/**
 * The `language` filter: fires when the text is not in one of the allowed languages. Detection is
 * cheap and deterministic: the Unicode script of the letters decides for non-Latin scripts (ru, el,
 * ar, he, zh, ja, ko, hi, th…), and for Latin script a stop-word vote among en, fr, de, es, it, pt, nl.
 * Policy parameters:
 *   allowed: [en, …]   ISO 639-1 codes (required)
 *   min_letters: 20    below this many letters the filter does not judge (too little evidence)
 * Fires when most of the evidence (>= 50%) is for languages outside `allowed`; score = that share.
 * Needs the whole text: `final` mode.
 */
import { createTextFilter, type FilterMatch, type TextFilter } from './text-filter';

export const LANGUAGE_PARAMS_SCHEMA = {
  type: 'object',
  required: ['allowed'],
  properties: {
    allowed: { type: 'array', items: { type: 'string', pattern: '^[a-z]{2}$' }, minItems: 1 },
    min_letters: { type: 'integer', minimum: 1 },
  },
  additionalProperties: false,
} as const;

const SCRIPTS: Array<[RegExp, string]> = [
  [/\p{Script=Cyrillic}/u, 'ru'], [/\p{Script=Greek}/u, 'el'], [/\p{Script=Arabic}/u, 'ar'], [/\p{Script=Hebrew}/u, 'he'],
  [/\p{Script=Hiragana}|\p{Script=Katakana}/u, 'ja'], [/\p{Script=Hangul}/u, 'ko'], [/\p{Script=Han}/u, 'zh'],
  [/\p{Script=Devanagari}/u, 'hi'], [/\p{Script=Thai}/u, 'th'], [/\p{Script=Armenian}/u, 'hy'], [/\p{Script=Georgian}/u, 'ka'],
];

const STOP_WORDS: Record<string, string[]> = {
  en: ['the', 'and', 'is', 'of', 'to', 'in', 'that', 'it', 'you', 'for', 'with', 'this', 'are', 'was', 'have', 'not', 'be', 'on', 'what', 'how'],
  fr: ['le', 'la', 'les', 'et', 'est', 'des', 'un', 'une', 'du', 'que', 'pour', 'dans', 'pas', 'sur', 'avec', 'vous', 'nous', 'je', 'qui', 'au'],
  de: ['der', 'die', 'das', 'und', 'ist', 'nicht', 'ein', 'eine', 'zu', 'den', 'mit', 'sich', 'auf', 'ich', 'sie', 'es', 'dem', 'auch', 'wie', 'für'],
  es: ['el', 'los', 'las', 'y', 'es', 'que', 'de', 'en', 'un', 'una', 'por', 'con', 'para', 'no', 'se', 'del', 'como', 'pero', 'más', 'está'],
  it: ['il', 'lo', 'gli', 'e', 'è', 'che', 'di', 'un', 'una', 'per', 'non', 'con', 'sono', 'della', 'del', 'nel', 'anche', 'come', 'questo', 'ma'],
  pt: ['o', 'os', 'as', 'e', 'é', 'que', 'de', 'em', 'um', 'uma', 'para', 'não', 'com', 'se', 'do', 'da', 'no', 'na', 'mas', 'como'],
  nl: ['de', 'het', 'een', 'en', 'is', 'van', 'dat', 'niet', 'op', 'te', 'zijn', 'met', 'voor', 'ik', 'je', 'die', 'maar', 'ook', 'als', 'bij'],
};
const STOP_WORD_SETS = Object.fromEntries(Object.entries(STOP_WORDS).map(([code, words]) => [code, new Set(words)]));

export interface LanguageGuess {
  /** Evidence per language code, summing to 1 (empty when there is too little text). */
  shares: Record<string, number>;
  letters: number;
}

export function guessLanguage(text: string): LanguageGuess {
  const counts: Record<string, number> = {};
  let letters = 0;
  let latin = 0;
  for (const char of text) {
    const code = char.charCodeAt(0);
    if (code < 128) {
      // ASCII fast path: the per-character regex tests below are the cost on long texts.
      if ((code >= 97 && code <= 122) || (code >= 65 && code <= 90)) {
        letters++;
        latin++;
      }
      continue;
    }
    if (!/\p{L}/u.test(char)) continue;
    letters++;
    if (/\p{Script=Latin}/u.test(char)) {
      latin++;
      continue;
    }
    const script = SCRIPTS.find(([pattern]) => pattern.test(char));
    const language = script ? script[1] : 'other';
    counts[language] = (counts[language] ?? 0) + 1;
  }
  if (latin > 0) {
    const votes: Record<string, number> = {};
    let totalVotes = 0;
    for (const word of text.toLowerCase().match(/\p{L}+/gu) ?? []) {
      for (const [code, words] of Object.entries(STOP_WORD_SETS)) {
        if (words.has(word)) {
          votes[code] = (votes[code] ?? 0) + 1;
          totalVotes++;
        }
      }
    }
    if (totalVotes === 0) counts.und = (counts.und ?? 0) + latin;
    else for (const [code, vote] of Object.entries(votes)) counts[code] = (counts[code] ?? 0) + (latin * vote) / totalVotes;
  }
  const shares: Record<string, number> = {};
  for (const [code, count] of Object.entries(counts)) shares[code] = letters === 0 ? 0 : count / letters;
  return { shares, letters };
}

export function scanLanguage(text: string, params: Record<string, unknown>): FilterMatch[] {
  const allowed = new Set(Array.isArray(params.allowed) ? (params.allowed as string[]) : []);
  const minLetters = typeof params.min_letters === 'number' ? params.min_letters : 20;
  const guess = guessLanguage(text);
  if (guess.letters < minLetters) return [];
  // Latin text without stop words ("und") gives no evidence either way.
  let outside = 0;
  let top = '';
  for (const [code, share] of Object.entries(guess.shares)) {
    if (allowed.has(code) || code === 'und') continue;
    outside += share;
    if (top === '' || share > guess.shares[top]) top = code;
  }
  // Most of the evidence must point outside the allowed list: stray stop words of other languages are noise.
  if (outside < 0.5) return [];
  return [{ entity: top, start: 0, end: text.length, replacement: '', score: Math.min(1, outside) }];
}

export function createLanguageFilter(): TextFilter {
  return createTextFilter({
    id: 'language',
    version: '1.0.0',
    mode: 'final',
    streamScope: 'whole',
    paramsSchema: LANGUAGE_PARAMS_SCHEMA,
    scan: scanLanguage,
    maxMatchLength: () => 0,
    describe(entity) {
      return `text in a language outside the allowed list (${entity})`;
    },
  });
}
