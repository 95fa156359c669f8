/**
 * scoreNgramConsistency: SelfCheckGPT's n-gram variant. One model is built from the passage and all
 * samples (add-one smoothing); each sentence's raw hallucination score is the max or mean of −log p over
 * its n-grams (higher = less supported), exactly as the paper.
 *
 * The consistency score in [0, 1] (1 = supported) is an affine, clamped map of the raw score, fixed by the
 * model and the number of samples N (no tuned constants):
 *   score = clamp((log D − raw − log 2) / log((N + 2) / 2), 0, 1),   D = the smoothing denominator.
 * Since p = (count + 1) / D, exp(−raw)·D is the (geometric-mean, for avg) smoothed count: 0 means the
 * n-gram occurs once, i.e. only in the answer itself (count 1, smoothed 2); 1 means it occurs N + 1 times,
 * i.e. as often as if every sample repeated it once. Within one set of samples the score is a monotone
 * (decreasing) function of the raw score, so both rank sentences identically.
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

export function rawToConsistency(raw: number, denominator: number, sampleCount: number): number {
  const value = (Math.log(denominator) - raw - Math.log(2)) / Math.log((sampleCount + 2) / 2);
  return Math.min(1, Math.max(0, value));
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
  const scores = raw.map((value) => rawToConsistency(value, model.normalizer, samples.length));
  const weakest = evaluated.tokens.map((tokens) => {
    let best: { text: string; negativeLogProbability: number } | undefined;
    for (const token of tokens) if (!best || token.negativeLogProbability > best.negativeLogProbability) best = token;
    return best?.text;
  });
  return { raw, scores, weakest };
}
