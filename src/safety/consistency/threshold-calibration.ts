/**
 * Threshold calibration for "fires when score < threshold" checks: pick, on a calibration split, the
 * threshold that maximises Youden's J (TPR − FPR) for flagging positives (positives should score low),
 * then report TPR/FPR/precision at that threshold on a split that was not used to choose it.
 */

export interface ThresholdOutcome {
  threshold: number;
  tpr: number;
  fpr: number;
  precision: number;
  positives: number;
  negatives: number;
}

/** Outcome of firing on score < threshold; labels: 1 = should fire. */
export function evaluateThreshold(labels: readonly number[], scores: readonly number[], threshold: number): ThresholdOutcome {
  let tp = 0;
  let fp = 0;
  let positives = 0;
  for (let i = 0; i < labels.length; i++) {
    const fires = scores[i] < threshold;
    if (labels[i] === 1) {
      positives++;
      if (fires) tp++;
    } else if (fires) fp++;
  }
  const negatives = labels.length - positives;
  return {
    threshold,
    tpr: positives === 0 ? 0 : tp / positives,
    fpr: negatives === 0 ? 0 : fp / negatives,
    precision: tp + fp === 0 ? 1 : tp / (tp + fp),
    positives,
    negatives,
  };
}

/**
 * The threshold with the highest TPR − FPR; candidates are midpoints between distinct scores (and the
 * extremes), so the choice never sits exactly on a calibration example. Ties go to the lower threshold
 * (fewer firings).
 */
export function calibrateThreshold(labels: readonly number[], scores: readonly number[]): ThresholdOutcome {
  const distinct = [...new Set(scores)].sort((a, b) => a - b);
  const candidates = [distinct[0] - 1e-9];
  for (let i = 1; i < distinct.length; i++) candidates.push((distinct[i - 1] + distinct[i]) / 2);
  candidates.push(distinct[distinct.length - 1] + 1e-9);
  let best: ThresholdOutcome | undefined;
  for (const threshold of candidates) {
    const outcome = evaluateThreshold(labels, scores, threshold);
    if (!best || outcome.tpr - outcome.fpr > best.tpr - best.fpr + 1e-12) best = outcome;
  }
  if (!best) throw new RangeError('calibration needs at least one score');
  return best;
}
