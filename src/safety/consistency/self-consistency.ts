/**
 * scoreConsistency: how well each sentence of an answer is supported by other samples of the same
 * prompt (SelfCheckGPT, Manakul et al. 2023). Variants:
 *   - `unigram-max` / `unigram-avg`: the paper's unigram model (see ngram-consistency.ts);
 *   - `ngram`: the same with n-grams (n from options, default 2), max aggregation unless told otherwise;
 *   - `nli`: an MNLI cross-encoder, premise = sample, hypothesis = sentence; the raw hallucination score
 *     is P(contradiction) (softmax over entailment/contradiction, neutral dropped, as the paper) averaged
 *     over the samples; the consistency score is 1 − that.
 * Every sentence gets a consistency `score` in [0, 1] (1 = supported) and the variant's `raw`
 * hallucination score (higher = less supported); the passage score is the mean of the sentence scores.
 * Inputs are bounded by CONSISTENCY_LIMITS; exceeding one is a GatewayError, never a silent cut.
 */
import { GatewayError } from '../../errors/gateway-error';
import { scoreNgramConsistency, type NgramAggregation } from './ngram-consistency';
import type { NliModel } from './nli-model';
import { splitSentences, type SentenceSpan } from './sentence-splitter';

export const CONSISTENCY_VARIANTS = ['unigram-max', 'unigram-avg', 'ngram', 'nli'] as const;
export type ConsistencyVariant = (typeof CONSISTENCY_VARIANTS)[number];

export const CONSISTENCY_LIMITS = {
  /** Characters in the answer and in each sample. */
  maxTextChars: 200_000,
  maxSamples: 64,
  /** Sentences scored by the NLI variant (each costs one model call per sample). */
  maxNliSentences: 256,
} as const;

export interface SentenceConsistency {
  text: string;
  /** [start, end) offsets into the passage (absent when the caller gave sentences not found in it). */
  span?: [number, number];
  /** 1 = supported by the samples, 0 = not. */
  score: number;
  /** The variant's raw hallucination score (unigram/ngram: max or mean −log p; nli: mean P(contradiction)). */
  raw: number;
  /** The least supported n-gram (lexical variants). */
  weakest?: string;
}

export interface ConsistencyResult {
  variant: ConsistencyVariant;
  samples: number;
  /** Mean of the sentence scores (1 when the passage has no sentence). */
  passageScore: number;
  /** Mean of the sentence raw scores. */
  passageRaw: number;
  sentences: SentenceConsistency[];
}

export interface ConsistencyInput {
  passage: string;
  /** Pre-split sentences (e.g. the evaluation data's); by default the passage is split here. */
  sentences?: readonly string[] | readonly SentenceSpan[];
  samples: readonly string[];
}

export interface ConsistencyOptions {
  variant: ConsistencyVariant;
  /** n for the `ngram` variant (default 2). */
  ngramN?: number;
  /** Aggregation for the `ngram` variant (default max). */
  ngramAggregation?: NgramAggregation;
  /** Required for the `nli` variant. */
  nli?: NliModel;
  signal?: AbortSignal;
}

function toSpans(passage: string, sentences: ConsistencyInput['sentences']): SentenceSpan[] {
  if (sentences === undefined) return splitSentences(passage);
  let cursor = 0;
  return sentences.map((sentence) => {
    if (typeof sentence !== 'string') return sentence;
    const start = passage.indexOf(sentence.trim(), cursor);
    if (start < 0) return { text: sentence, start: -1, end: -1 };
    cursor = start + sentence.trim().length;
    return { text: sentence, start, end: cursor };
  });
}

function checkLimits(input: ConsistencyInput): void {
  if (input.samples.length === 0) throw new GatewayError('invalid_request', 'self-consistency needs at least one sample');
  if (input.samples.length > CONSISTENCY_LIMITS.maxSamples) {
    throw new GatewayError('invalid_request', `self-consistency takes at most ${CONSISTENCY_LIMITS.maxSamples} samples, got ${input.samples.length}`);
  }
  for (const text of [input.passage, ...input.samples]) {
    if (text.length > CONSISTENCY_LIMITS.maxTextChars) {
      throw new GatewayError('payload_too_large', `self-consistency texts are limited to ${CONSISTENCY_LIMITS.maxTextChars} characters`);
    }
  }
}

function mean(values: readonly number[], empty: number): number {
  return values.length === 0 ? empty : values.reduce((sum, value) => sum + value, 0) / values.length;
}

export async function scoreConsistency(input: ConsistencyInput, options: ConsistencyOptions): Promise<ConsistencyResult> {
  checkLimits(input);
  const spans = toSpans(input.passage, input.sentences);
  const texts = spans.map((span) => span.text);
  let raw: number[];
  let scores: number[];
  let weakest: Array<string | undefined> = [];
  switch (options.variant) {
    case 'unigram-max':
    case 'unigram-avg':
    case 'ngram': {
      const n = options.variant === 'ngram' ? (options.ngramN ?? 2) : 1;
      const aggregation = options.variant === 'unigram-avg' ? 'avg' : options.variant === 'unigram-max' ? 'max' : (options.ngramAggregation ?? 'max');
      const result = scoreNgramConsistency(texts, input.passage, input.samples, { n, aggregation });
      ({ raw, scores, weakest } = result);
      break;
    }
    case 'nli': {
      if (!options.nli) throw new GatewayError('unavailable', 'the nli self-consistency variant needs an NLI model (none is configured)');
      if (texts.length > CONSISTENCY_LIMITS.maxNliSentences) {
        throw new GatewayError('payload_too_large', `the nli variant scores at most ${CONSISTENCY_LIMITS.maxNliSentences} sentences`);
      }
      const pairs = texts.flatMap((hypothesis) => input.samples.map((premise) => ({ premise, hypothesis })));
      const probabilities = await options.nli.classify(pairs, options.signal);
      raw = texts.map((_, index) => mean(probabilities.slice(index * input.samples.length, (index + 1) * input.samples.length).map((p) => p.contradictionVsEntailment), 0));
      scores = raw.map((value) => 1 - value);
      break;
    }
    default:
      throw new GatewayError('invalid_request', `unknown self-consistency variant '${String(options.variant)}'`);
  }
  const sentences: SentenceConsistency[] = spans.map((span, index) => ({
    text: span.text,
    ...(span.start >= 0 ? { span: [span.start, span.end] as [number, number] } : {}),
    score: scores[index],
    raw: raw[index],
    ...(weakest[index] !== undefined ? { weakest: weakest[index] } : {}),
  }));
  return {
    variant: options.variant,
    samples: input.samples.length,
    passageScore: mean(scores, 1),
    passageRaw: mean(raw, 0),
    sentences,
  };
}
