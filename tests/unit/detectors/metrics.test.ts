/** Metrics used by `rein eval`: AUC, TPR at FPR, Wilson intervals, threshold calibration. */
import { bestPointAtFpr, operatingPoint, percentile, rocAuc, thresholdForFpr, tprAtFpr, wilsonInterval } from '../../../src/safety/eval/metrics';

const examples = [
  { score: 0.9, label: 1 as const },
  { score: 0.8, label: 1 as const },
  { score: 0.7, label: 0 as const },
  { score: 0.6, label: 1 as const },
  { score: 0.2, label: 0 as const },
  { score: 0.1, label: 0 as const },
];

describe('metrics', () => {
  it('computes ROC AUC with ties as one half', () => {
    // 9 positive/negative pairs, one misordered (0.6 < 0.7): 8/9.
    expect(rocAuc(examples)).toBeCloseTo(8 / 9, 10);
    expect(rocAuc([{ score: 0.5, label: 1 }, { score: 0.5, label: 0 }])).toBeCloseTo(0.5, 10);
    expect(rocAuc([{ score: 0.5, label: 1 }])).toBeNaN();
  });

  it('finds the best TPR under an FPR bound', () => {
    expect(tprAtFpr(examples, 0)).toBeCloseTo(2 / 3, 10);
    expect(tprAtFpr(examples, 0.34)).toBeCloseTo(1, 10);
    const point = bestPointAtFpr(examples, 0);
    expect(point.threshold).toBe(0.8);
    expect(point.falsePositives).toBe(0);
  });

  it('reports the operating point of a fixed threshold', () => {
    const point = operatingPoint(examples, 0.65);
    expect(point.truePositives).toBe(2);
    expect(point.falsePositives).toBe(1);
    expect(point.fpr).toBeCloseTo(1 / 3, 10);
  });

  it('calibrates a threshold that keeps FPR within the target', () => {
    const negatives = Array.from({ length: 100 }, (_, i) => i / 100);
    const threshold = thresholdForFpr(negatives, 0.05);
    const fired = negatives.filter((score) => score >= threshold).length;
    expect(fired).toBeLessThanOrEqual(5);
    expect(fired).toBe(5);
  });

  it('gives Wilson intervals that match the textbook values', () => {
    const interval = wilsonInterval(8, 10);
    expect(interval.low).toBeCloseTo(0.4902, 3);
    expect(interval.high).toBeCloseTo(0.9433, 3);
    const zero = wilsonInterval(0, 50);
    expect(zero.low).toBeCloseTo(0, 10);
    expect(zero.high).toBeCloseTo(0.0713, 3);
  });

  it('interpolates percentiles', () => {
    expect(percentile([1, 2, 3, 4], 50)).toBeCloseTo(2.5, 10);
    expect(percentile([5], 99)).toBe(5);
  });
});
