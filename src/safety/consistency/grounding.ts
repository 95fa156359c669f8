/**
 * groundAnswer: how well each sentence of an answer is supported by caller-supplied source documents.
 * Per sentence:
 *   - coverage: the share of its content words (stop words dropped, light suffix stemming) that occur in
 *     the sources;
 *   - key items: every number (thousands separators ignored: "1,000" = "1000") and every named entity
 *     (a run of capitalised words; the sentence's first word counts only inside a multi-word run) must
 *     occur in the sources — an entity is supported when each of its words occurs there (so "Carter
 *     Harrison" supports "Harrison"; a weak spot: "John Smith" and "Smith, John" are treated alike);
 *     unsupported ones are reported with their spans in the answer;
 *   - score = keyFraction × support, where keyFraction = supported key items / key items (1 when none)
 *     and support = coverage, or, when an NLI model is configured, the highest P(entailment) of the
 *     sentence given any source window (premise = source window, hypothesis = sentence).
 * The passage score is the mean sentence score. Sizes are bounded by GROUNDING_LIMITS.
 */
import { GatewayError } from '../../errors/gateway-error';
import type { NliModel } from './nli-model';
import { splitSentences } from './sentence-splitter';
import { tokenizeWords } from './word-tokenizer';

export const GROUNDING_LIMITS = {
  maxAnswerChars: 200_000,
  maxSourceChars: 1_000_000,
  maxSources: 64,
  /** NLI premise windows are runs of whole source sentences up to this many characters. */
  nliWindowChars: 1_200,
  /** Sentence × window pairs the NLI model may be asked to score for one answer. */
  maxNliPairs: 4_096,
} as const;

export interface GroundingIssue {
  type: 'number' | 'entity';
  text: string;
  /** [start, end) offsets into the answer. */
  span: [number, number];
}

export interface SentenceGrounding {
  text: string;
  span: [number, number];
  score: number;
  coverage: number;
  /** Supported numbers and names / all of them (1 when the sentence has none). */
  keyFraction: number;
  /** Highest P(entailment) over the source windows, when NLI is configured. */
  entailment?: number;
  unsupported: GroundingIssue[];
}

export interface GroundingResult {
  passageScore: number;
  sentences: SentenceGrounding[];
  unsupported: GroundingIssue[];
}

export interface GroundingOptions {
  nli?: NliModel;
  signal?: AbortSignal;
}

const STOP_WORDS = new Set(
  ('a about above after again against all also am an and any are as at be because been before being below between both but by ' +
    'can could did do does doing down during each either else ever few for from further had has have having he her here hers ' +
    'herself him himself his how i if in into is it its itself just like may me might more most much must my myself neither no ' +
    'nor not now of off on once only or other our ours ourselves out over own same shall she should so some such than that the ' +
    'their theirs them themselves then there these they this those through to too under until up upon very was we were what ' +
    'when where which while who whom whose why will with within without would yet you your yours yourself yourselves ' +
    "'s n't 're 've 'll 'd 'm")
    .split(' ')
    .filter(Boolean),
);
/** Lower-case words allowed inside a multi-word name: "University of Cambridge", "Ludwig van Beethoven". */
const NAME_CONNECTORS = new Set(['of', 'de', 'van', 'von', 'der', 'den', 'del', 'da', 'di', 'la', 'le', 'du', 'y', 'and', 'the', 'bin', 'ibn', 'al']);

export function stem(word: string): string {
  let text = word.toLowerCase().replace(/['’]s$/u, '');
  if (text.length > 4 && text.endsWith('ies')) text = `${text.slice(0, -3)}y`;
  else if (text.length > 4 && /(?:ses|xes|zes|ches|shes)$/u.test(text)) text = text.slice(0, -2);
  else if (text.length > 3 && text.endsWith('s') && !text.endsWith('ss') && !text.endsWith('us') && !text.endsWith('is')) text = text.slice(0, -1);
  return text;
}

function normalizeNumber(text: string): string {
  return text.replace(/,/gu, '').replace(/\.0+$/u, '');
}

const NUMBER = /\d[\d,]*(?:\.\d+)?/gu;

interface SourceIndex {
  words: Set<string>;
  stems: Set<string>;
  numbers: Set<string>;
}

function indexSources(sources: readonly string[]): SourceIndex {
  const index: SourceIndex = { words: new Set(), stems: new Set(), numbers: new Set() };
  for (const source of sources) {
    for (const token of tokenizeWords(source)) {
      const lower = token.text.toLowerCase();
      index.words.add(lower);
      index.stems.add(stem(lower));
    }
    for (const match of source.matchAll(NUMBER)) index.numbers.add(normalizeNumber(match[0]));
  }
  return index;
}

function isContentWord(word: string): boolean {
  const lower = word.toLowerCase();
  return /[\p{L}\p{N}]/u.test(word) && !STOP_WORDS.has(lower) && !(lower.length === 1 && /\p{L}/u.test(lower));
}

function isCapitalized(word: string): boolean {
  return /^\p{Lu}/u.test(word) && /\p{L}/u.test(word.slice(1) || 'x');
}

/** Named-entity candidates in one sentence: runs of capitalised words (offsets relative to the sentence). */
export function findEntities(sentence: string): Array<{ text: string; start: number; end: number; words: string[] }> {
  const tokens = tokenizeWords(sentence);
  const entities: Array<{ text: string; start: number; end: number; words: string[] }> = [];
  let i = 0;
  while (i < tokens.length) {
    if (!isCapitalized(tokens[i].text)) {
      i++;
      continue;
    }
    let j = i;
    const words = [tokens[i].text];
    while (j + 1 < tokens.length) {
      const next = tokens[j + 1];
      if (isCapitalized(next.text)) {
        words.push(next.text);
        j++;
      } else if (NAME_CONNECTORS.has(next.text) && j + 2 < tokens.length && isCapitalized(tokens[j + 2].text)) {
        words.push(next.text, tokens[j + 2].text);
        j += 2;
      } else break;
    }
    // A run opening with a capitalised stop word ("The University of Paris") starts at its next word.
    let first = i;
    if (j > i && STOP_WORDS.has(words[0].toLowerCase())) {
      words.shift();
      first = i + 1;
    }
    const atStart = first === 0 || (first === 1 && /^[\p{P}]+$/u.test(tokens[0].text));
    const single = j === first;
    // A lone capitalised first word is ordinary capitalisation ("He", "During") unless it is not a stop word
    // and is capitalised mid-word like an acronym ("NASA").
    const skip = atStart && single && (STOP_WORDS.has(words[0].toLowerCase()) || !/^\p{Lu}{2,}$/u.test(words[0]));
    if (!skip && !(single && STOP_WORDS.has(words[0].toLowerCase()))) {
      entities.push({ text: sentence.slice(tokens[first].start, tokens[j].end), start: tokens[first].start, end: tokens[j].end, words });
    }
    i = j + 1;
  }
  return entities;
}

/** Every word of the name occurs in the sources (a whole-name occurrence implies this; set lookups keep it linear). */
function entitySupported(entity: { text: string; words: string[] }, index: SourceIndex): boolean {
  return entity.words.filter((word) => !NAME_CONNECTORS.has(word)).every((word) => index.words.has(word.toLowerCase()));
}

/** Source windows for NLI: runs of whole sentences up to nliWindowChars (a longer sentence is its own window). */
function sourceWindows(sources: readonly string[]): string[] {
  const windows: string[] = [];
  for (const source of sources) {
    let current = '';
    for (const sentence of splitSentences(source)) {
      if (current && current.length + 1 + sentence.text.length > GROUNDING_LIMITS.nliWindowChars) {
        windows.push(current);
        current = '';
      }
      current = current ? `${current} ${sentence.text}` : sentence.text;
    }
    if (current) windows.push(current);
  }
  return windows;
}

export async function groundAnswer(answer: string, sources: readonly string[], options: GroundingOptions = {}): Promise<GroundingResult> {
  if (sources.length === 0) throw new GatewayError('invalid_request', 'grounding needs at least one context document');
  if (sources.length > GROUNDING_LIMITS.maxSources) throw new GatewayError('invalid_request', `grounding takes at most ${GROUNDING_LIMITS.maxSources} context documents`);
  if (answer.length > GROUNDING_LIMITS.maxAnswerChars) throw new GatewayError('payload_too_large', `grounding checks answers of at most ${GROUNDING_LIMITS.maxAnswerChars} characters`);
  if (sources.reduce((sum, source) => sum + source.length, 0) > GROUNDING_LIMITS.maxSourceChars) {
    throw new GatewayError('payload_too_large', `grounding sources are limited to ${GROUNDING_LIMITS.maxSourceChars} characters in all`);
  }
  const index = indexSources(sources);
  const spans = splitSentences(answer);
  const sentences: SentenceGrounding[] = spans.map((span) => {
    const content = tokenizeWords(span.text).filter((token) => isContentWord(token.text));
    const covered = content.filter((token) => index.words.has(token.text.toLowerCase()) || index.stems.has(stem(token.text))).length;
    const coverage = content.length === 0 ? 1 : covered / content.length;
    const unsupported: GroundingIssue[] = [];
    let keyItems = 0;
    for (const match of span.text.matchAll(NUMBER)) {
      keyItems++;
      if (!index.numbers.has(normalizeNumber(match[0]))) {
        const start = span.start + (match.index ?? 0);
        unsupported.push({ type: 'number', text: match[0], span: [start, start + match[0].length] });
      }
    }
    for (const entity of findEntities(span.text)) {
      keyItems++;
      if (!entitySupported(entity, index)) unsupported.push({ type: 'entity', text: entity.text, span: [span.start + entity.start, span.start + entity.end] });
    }
    unsupported.sort((a, b) => a.span[0] - b.span[0]);
    const keyFraction = keyItems === 0 ? 1 : (keyItems - unsupported.length) / keyItems;
    return { text: span.text, span: [span.start, span.end], score: keyFraction * coverage, coverage, keyFraction, unsupported };
  });
  if (options.nli && sentences.length > 0) {
    const windows = sourceWindows(sources);
    if (windows.length * sentences.length > GROUNDING_LIMITS.maxNliPairs) {
      throw new GatewayError('payload_too_large', `grounding with NLI scores at most ${GROUNDING_LIMITS.maxNliPairs} sentence × source-window pairs`);
    }
    const pairs = sentences.flatMap((sentence) => windows.map((premise) => ({ premise, hypothesis: sentence.text })));
    const probabilities = await options.nli.classify(pairs, options.signal);
    sentences.forEach((sentence, i) => {
      const entailment = Math.max(...probabilities.slice(i * windows.length, (i + 1) * windows.length).map((p) => p.entailment));
      sentence.entailment = entailment;
      sentence.score = sentence.keyFraction * entailment;
    });
  }
  const passageScore = sentences.length === 0 ? 1 : sentences.reduce((sum, sentence) => sum + sentence.score, 0) / sentences.length;
  return { passageScore, sentences, unsupported: sentences.flatMap((sentence) => sentence.unsupported) };
}

