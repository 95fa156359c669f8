/**
 * scoreNgramConsistency: SelfCheckGPT's n-gram variant. One model is built from the passage and all
 * samples (add-one smoothing); each sentence's raw hallucination score is the max or mean of −log p over
 * its n-grams (higher = less supported), exactly as the paper.
 *
 * The consistency score in [0, 1] (1 = supported) is an affine, clamped map of the raw score, fixed by the
 * model and the number of samples N (no tuned constants). With D = the smoothing denominator, exp(−raw)·D
 * is the smoothed count (count + 1) of the weakest n-gram (max) or the geometric mean of the smoothed
 * counts (avg); a smoothed count of 2 means the n-gram occurs only in the answer itself. Then
 *   max: score = clamp((log D − raw − log 2) / log((N + 2) / 2), 0, 1)
 *        — 1 when the weakest n-gram occurs N + 1 times, as if every sample repeated it once;
 *   avg: score = clamp((log D − raw − log 2) / (log D − log 2), 0, 1)
 *        — the average n-gram's log-frequency on a scale from "only in the answer" (0) to p = 1 (1); the
 *        anchor differs because function words make the average count far exceed N.
 * Within one set of samples the score is a decreasing function of the raw score, so both rank sentences
 * identically.
 */
import { NgramModel } from './ngram-model';

export type NgramAggregation = 'max' | 'avg';

export interface NgramConsistencyOptions {
  /** n-gram order, 1 = unigram. */
  n: number;
  aggregation: NgramAggregation;
}

export interface NgramConsistencyResult {
  /** Per sentence raw hallucination score (max or mean −log p). */
  raw: number[];
  /** Per sentence consistency score in [0, 1]. */
  scores: number[];
  /** Per sentence, the least supported n-gram (highest −log p), for explanations. */
  weakest: Array<string | undefined>;
}

export function rawToConsistency(raw: number, denominator: number, sampleCount: number, aggregation: NgramAggregation): number {
  const range = aggregation === 'max' ? Math.log((sampleCount + 2) / 2) : Math.log(denominator) - Math.log(2);
  const value = (Math.log(denominator) - raw - Math.log(2)) / range;
  // Rounded so that float noise (1e-16) does not pose as evidence.
  return Math.min(1, Math.max(0, Math.round(value * 1e12) / 1e12));
}

export function scoreNgramConsistency(
  sentences: readonly string[],
  passage: string,
  samples: readonly string[],
  options: NgramConsistencyOptions,
): NgramConsistencyResult {
  if (samples.length === 0) throw new RangeError('n-gram consistency needs at least one sample');
  const model = new NgramModel(options.n);
  model.add(passage);
  for (const sample of samples) model.add(sample);
  model.train(1);
  const evaluated = model.evaluate([...sentences]);
  const raw = options.aggregation === 'max' ? evaluated.maximum : evaluated.average;
  const scores = raw.map((value) => rawToConsistency(value, model.normalizer, samples.length, options.aggregation));
  const weakest = evaluated.tokens.map((tokens) => {
    let best: { text: string; negativeLogProbability: number } | undefined;
    for (const token of tokens) if (!best || token.negativeLogProbability > best.negativeLogProbability) best = token;
    return best?.text;
  });
  return { raw, scores, weakest };
}
