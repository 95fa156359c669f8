/**
 * The evaluation metrics against values computed by hand (sklearn's precision_recall_curve + auc,
 * scipy's pearsonr and spearmanr with average ranks for ties).
 */
import { aucPr, averageRanks, pearson, precisionRecallCurve, spearman, trapezoidArea } from '../../../src/safety/consistency/classification-metrics';

describe('precisionRecallCurve and aucPr', () => {
  it('matches a hand-computed curve without ties', () => {
    const labels = [1, 0, 1, 1, 0];
    const scores = [0.9, 0.8, 0.7, 0.6, 0.2];
    const curve = precisionRecallCurve(labels, scores);
    // Thresholds 0.2, 0.6, 0.7, 0.8, 0.9 (increasing, as sklearn); last point is (P=1, R=0).
    expect(curve.thresholds).toEqual([0.2, 0.6, 0.7, 0.8, 0.9]);
    expect(curve.precision.map((value) => Number(value.toFixed(4)))).toEqual([0.6, 0.75, 0.6667, 0.5, 1, 1]);
    expect(curve.recall.map((value) => Number(value.toFixed(4)))).toEqual([1, 1, 0.6667, 0.3333, 0.3333, 0]);
    // Trapezoids: 1/3·(0.75+2/3)/2 + 1/3·(2/3+0.5)/2 + 1/3·(1+1)/2 = 17/72 + 14/72 + 24/72.
    expect(aucPr(labels, scores)).toBeCloseTo(55 / 72, 12);
  });

  it('treats tied scores as one threshold', () => {
    const labels = [1, 0, 1, 0];
    const scores = [0.5, 0.5, 0.9, 0.1];
    const curve = precisionRecallCurve(labels, scores);
    expect(curve.thresholds).toEqual([0.1, 0.5, 0.9]);
    // Points (R, P): (1, .5), (1, 2/3), (.5, 1), (0, 1) → 0.5·(2/3+1)/2 + 0.5·1 = 11/12.
    expect(aucPr(labels, scores)).toBeCloseTo(11 / 12, 12);
  });

  it('gives 1 for a perfect ranking and the hand-computed area for the reversed one', () => {
    expect(aucPr([1, 1, 0, 0], [4, 3, 2, 1])).toBeCloseTo(1, 12);
    // Reversed: descending scores give tp [0,0,1,2], fp [1,2,2,2]; reversed P=[.5,1/3,0,0,1], R=[1,.5,0,0,0].
    expect(aucPr([1, 1, 0, 0], [1, 2, 3, 4])).toBeCloseTo(0.5 * (0.5 + 1 / 3) / 2 + 0.5 * (1 / 3 + 0) / 2, 12);
  });

  it('auc is the positive trapezoid area in either direction and rejects non-monotone x', () => {
    expect(trapezoidArea([0, 1, 2], [1, 1, 3])).toBeCloseTo(1 + 2, 12);
    expect(trapezoidArea([2, 1, 0], [3, 1, 1])).toBeCloseTo(3, 12);
    expect(() => trapezoidArea([0, 2, 1], [1, 1, 1])).toThrow(RangeError);
  });
});

describe('pearson and spearman', () => {
  it('pearson matches the hand computation 11/sqrt(130)', () => {
    expect(pearson([1, 2, 3, 4], [2, 4, 5, 9])).toBeCloseTo(11 / Math.sqrt(130), 12);
  });

  it('spearman uses average ranks for ties', () => {
    expect(averageRanks([1, 2, 2, 3])).toEqual([1, 2.5, 2.5, 4]);
    expect(averageRanks([3, 1, 3, 3])).toEqual([3, 1, 3, 3]);
    expect(spearman([1, 2, 2, 3], [1, 3, 2, 4])).toBeCloseTo(4.5 / Math.sqrt(22.5), 12);
  });

  it('pearson of a constant series is NaN, not a number pretending to be a correlation', () => {
    expect(pearson([1, 1, 1], [1, 2, 3])).toBeNaN();
  });
});

describe('threshold calibration (fires when score < threshold)', () => {
  it('picks the midpoint threshold with the best TPR − FPR and evaluates it elsewhere', async () => {
    const { calibrateThreshold, evaluateThreshold } = await import('../../../src/safety/consistency/threshold-calibration');
    // Positives score low. Scores 0.1 (1), 0.2 (1), 0.3 (0), 0.4 (1), 0.6 (0), 0.8 (0).
    const labels = [1, 1, 0, 1, 0, 0];
    const scores = [0.1, 0.2, 0.3, 0.4, 0.6, 0.8];
    const best = calibrateThreshold(labels, scores);
    // t = 0.25: TPR 2/3, FPR 0 → J .667; t = 0.5: TPR 1, FPR 1/3 → J .667 (tie: the lower wins).
    expect(best.threshold).toBeCloseTo(0.25, 12);
    expect(best.tpr).toBeCloseTo(2 / 3, 12);
    expect(best.fpr).toBe(0);
    expect(evaluateThreshold([1, 0, 1, 0], [0.2, 0.2, 0.5, 0.9], 0.25)).toMatchObject({ tpr: 0.5, fpr: 0.5, precision: 0.5, positives: 2, negatives: 2 });
  });
});
