/**
 * Detection-quality metrics shared by the evaluation commands: ROC AUC (ties count one half),
 * TPR at a bounded FPR (SPEC.md §6: the highest TPR over thresholds whose FPR is ≤ x), the
 * operating point of a fixed threshold, a threshold calibrated to a target FPR, and Wilson 95%
 * score intervals for proportions (several dev sets are small, where the normal interval lies).
 */

export interface LabeledScore {
  score: number;
  /** 1 = positive (attack / poisoned / hallucinated), 0 = negative. */
  label: 0 | 1;
}

/** Area under the ROC curve by the Mann–Whitney statistic; NaN when a class is missing. */
export function rocAuc(examples: readonly LabeledScore[]): number {
  const sorted = [...examples].sort((a, b) => a.score - b.score);
  const positives = sorted.filter((example) => example.label === 1).length;
  const negatives = sorted.length - positives;
  if (positives === 0 || negatives === 0) return Number.NaN;
  // Sum of positive ranks with average ranks for ties.
  let rankSum = 0;
  let index = 0;
  while (index < sorted.length) {
    let end = index;
    while (end + 1 < sorted.length && sorted[end + 1].score === sorted[index].score) end++;
    const averageRank = (index + end) / 2 + 1;
    for (let k = index; k <= end; k++) if (sorted[k].label === 1) rankSum += averageRank;
    index = end + 1;
  }
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

export interface OperatingPoint {
  threshold: number;
  tpr: number;
  fpr: number;
  truePositives: number;
  falsePositives: number;
  positives: number;
  negatives: number;
}

/** TPR and FPR of the rule "positive when score >= threshold". */
export function operatingPoint(examples: readonly LabeledScore[], threshold: number): OperatingPoint {
  let truePositives = 0;
  let falsePositives = 0;
  let positives = 0;
  let negatives = 0;
  for (const example of examples) {
    const fired = example.score >= threshold;
    if (example.label === 1) {
      positives++;
      if (fired) truePositives++;
    } else {
      negatives++;
      if (fired) falsePositives++;
    }
  }
  return {
    threshold,
    tpr: positives ? truePositives / positives : Number.NaN,
    fpr: negatives ? falsePositives / negatives : Number.NaN,
    truePositives,
    falsePositives,
    positives,
    negatives,
  };
}

/**
 * The operating point with the highest TPR among thresholds whose FPR ≤ maxFpr. Thresholds are the
 * distinct scores (a threshold between two scores fires on the same examples as the upper one).
 * With no admissible threshold but "fire on nothing", TPR is 0 and the threshold is +Infinity.
 */
export function bestPointAtFpr(examples: readonly LabeledScore[], maxFpr: number): OperatingPoint {
  const sorted = [...examples].sort((a, b) => b.score - a.score);
  const positives = sorted.filter((example) => example.label === 1).length;
  const negatives = sorted.length - positives;
  let best: OperatingPoint = {
    threshold: Number.POSITIVE_INFINITY, tpr: 0, fpr: 0, truePositives: 0, falsePositives: 0, positives, negatives,
  };
  let truePositives = 0;
  let falsePositives = 0;
  let index = 0;
  while (index < sorted.length) {
    const threshold = sorted[index].score;
    while (index < sorted.length && sorted[index].score === threshold) {
      if (sorted[index].label === 1) truePositives++;
      else falsePositives++;
      index++;
    }
    const fpr = negatives ? falsePositives / negatives : 0;
    if (fpr > maxFpr) break;
    const tpr = positives ? truePositives / positives : 0;
    if (tpr >= best.tpr) best = { threshold, tpr, fpr, truePositives, falsePositives, positives, negatives };
  }
  return best;
}

/** SPEC.md §6 `tpr_at_fpr[x]`. */
export function tprAtFpr(examples: readonly LabeledScore[], maxFpr: number): number {
  return bestPointAtFpr(examples, maxFpr).tpr;
}

/**
 * The lowest threshold whose FPR on the negatives is ≤ maxFpr, placed halfway between the last
 * admitted negative score and the next one up, so that it generalises rather than hugging a sample.
 */
export function thresholdForFpr(negativeScores: readonly number[], maxFpr: number): number {
  const sorted = [...negativeScores].sort((a, b) => b - a);
  const allowed = Math.floor(maxFpr * sorted.length);
  if (sorted.length === 0) return 0.5;
  if (allowed >= sorted.length) return sorted[sorted.length - 1];
  // Firing on the `allowed` highest negatives is acceptable; sorted[allowed] must not fire.
  const mustNotFire = sorted[allowed];
  const mayFire = allowed > 0 ? sorted[allowed - 1] : Math.min(1, mustNotFire + 0.1);
  return mayFire > mustNotFire ? (mayFire + mustNotFire) / 2 : mustNotFire + 1e-9;
}

export interface Interval {
  estimate: number;
  low: number;
  high: number;
}

/** Wilson score interval for `successes` out of `trials` (z = 1.96 → 95%). */
export function wilsonInterval(successes: number, trials: number, z = 1.959963984540054): Interval {
  if (trials <= 0) return { estimate: Number.NaN, low: 0, high: 1 };
  const p = successes / trials;
  const z2 = z * z;
  const denominator = 1 + z2 / trials;
  const centre = (p + z2 / (2 * trials)) / denominator;
  const half = (z * Math.sqrt((p * (1 - p)) / trials + z2 / (4 * trials * trials))) / denominator;
  return { estimate: p, low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}

/** Percentile by linear interpolation (p in [0, 100]); NaN on an empty list. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const low = Math.floor(rank);
  const high = Math.ceil(rank);
  return sorted[low] + (sorted[high] - sorted[low]) * (rank - low);
}

/** "83.0% [77.1, 87.7]" — a proportion with its Wilson interval, for reports. */
export function formatInterval(successes: number, trials: number): string {
  const interval = wilsonInterval(successes, trials);
  const pct = (value: number) => (100 * value).toFixed(1);
  return `${pct(interval.estimate)}% [${pct(interval.low)}, ${pct(interval.high)}] (${successes}/${trials})`;
}
