/**
 * Metrics for the self-consistency evaluation, written to match the reference implementations:
 * `precisionRecallCurve` = sklearn.metrics.precision_recall_curve (distinct score thresholds, highest
 * first; the curve ends at precision 1, recall 0), `aucPr` = sklearn.metrics.auc over that curve
 * (trapezoid rule), `pearson` = scipy.stats.pearsonr, `spearman` = scipy.stats.spearmanr (Pearson of
 * ranks, ties get their average rank).
 */

export interface PrecisionRecallCurve {
  /** Ordered as sklearn returns them: recall decreasing to 0, the last point (precision 1, recall 0) added. */
  precision: number[];
  recall: number[];
  /** The distinct thresholds, increasing (one fewer than the points). */
  thresholds: number[];
}

/** labels: 1 = positive, 0 = negative; higher score = more likely positive. */
export function precisionRecallCurve(labels: readonly number[], scores: readonly number[]): PrecisionRecallCurve {
  if (labels.length !== scores.length) throw new RangeError('labels and scores differ in length');
  if (scores.some((score) => Number.isNaN(score))) throw new RangeError('scores contain NaN');
  const order = labels.map((_, index) => index).sort((a, b) => scores[b] - scores[a]);
  const truePositives: number[] = [];
  const falsePositives: number[] = [];
  const thresholds: number[] = [];
  let tp = 0;
  let fp = 0;
  for (let i = 0; i < order.length; i++) {
    if (labels[order[i]] === 1) tp++;
    else fp++;
    // A threshold closes where the next score is different (or at the end).
    if (i === order.length - 1 || scores[order[i + 1]] !== scores[order[i]]) {
      truePositives.push(tp);
      falsePositives.push(fp);
      thresholds.push(scores[order[i]]);
    }
  }
  const totalPositives = tp;
  const precision = truePositives.map((value, index) => (value + falsePositives[index] === 0 ? 0 : value / (value + falsePositives[index])));
  const recall = truePositives.map((value) => (totalPositives === 0 ? 1 : value / totalPositives));
  return {
    precision: [...precision.reverse(), 1],
    recall: [...recall.reverse(), 0],
    thresholds: thresholds.reverse(),
  };
}

/** sklearn.metrics.auc: trapezoid rule over x (monotone, either direction; the area is positive). */
export function trapezoidArea(x: readonly number[], y: readonly number[]): number {
  if (x.length !== y.length || x.length < 2) throw new RangeError('auc needs at least two points of equal length');
  let increasing = true;
  let decreasing = true;
  for (let i = 1; i < x.length; i++) {
    if (x[i] < x[i - 1]) increasing = false;
    if (x[i] > x[i - 1]) decreasing = false;
  }
  if (!increasing && !decreasing) throw new RangeError('x is neither increasing nor decreasing');
  let area = 0;
  for (let i = 1; i < x.length; i++) area += ((x[i] - x[i - 1]) * (y[i] + y[i - 1])) / 2;
  return decreasing ? -area : area;
}

/** AUC-PR as `auc(recall, precision)` over sklearn's precision_recall_curve, in [0, 1]. */
export function aucPr(labels: readonly number[], scores: readonly number[]): number {
  const curve = precisionRecallCurve(labels, scores);
  return trapezoidArea(curve.recall, curve.precision);
}

export function pearson(x: readonly number[], y: readonly number[]): number {
  if (x.length !== y.length || x.length < 2) throw new RangeError('pearson needs two series of equal length ≥ 2');
  const n = x.length;
  const meanX = x.reduce((sum, value) => sum + value, 0) / n;
  const meanY = y.reduce((sum, value) => sum + value, 0) / n;
  let covariance = 0;
  let varianceX = 0;
  let varianceY = 0;
  for (let i = 0; i < n; i++) {
    covariance += (x[i] - meanX) * (y[i] - meanY);
    varianceX += (x[i] - meanX) ** 2;
    varianceY += (y[i] - meanY) ** 2;
  }
  if (varianceX === 0 || varianceY === 0) return Number.NaN;
  return covariance / Math.sqrt(varianceX * varianceY);
}

/** Ranks from 1, ties sharing their average rank (scipy.stats.rankdata 'average'). */
export function averageRanks(values: readonly number[]): number[] {
  const order = values.map((_, index) => index).sort((a, b) => values[a] - values[b]);
  const ranks = new Array<number>(values.length);
  let i = 0;
  while (i < order.length) {
    let j = i;
    while (j + 1 < order.length && values[order[j + 1]] === values[order[i]]) j++;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) ranks[order[k]] = rank;
    i = j + 1;
  }
  return ranks;
}

export function spearman(x: readonly number[], y: readonly number[]): number {
  return pearson(averageRanks(x), averageRanks(y));
}
