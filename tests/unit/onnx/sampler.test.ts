/**
 * The sampler's filters and the seeded generator, on hand-made logits.
 */
import { applyRepetitionPenalty, nucleusCutoff, sampleToken, type SamplerSettings } from '../../../src/backends/onnx/sampler';
import { createSeededRandom } from '../../../src/backends/onnx/seeded-random';

const base: SamplerSettings = { temperature: 1, topK: 0, topP: 1, minP: 0, repetitionPenalty: 1 };

function histogram(logits: number[], settings: SamplerSettings, draws = 4000, seed = 1): number[] {
  const random = createSeededRandom(seed);
  const counts = new Array(logits.length).fill(0);
  const scratch = new Float32Array(logits.length);
  for (let index = 0; index < draws; index++) counts[sampleToken(Float32Array.from(logits), 0, logits.length, settings, random, scratch)]++;
  return counts;
}

describe('sampleToken', () => {
  const logits = [2, 1, 0.5, 0, -1, -Infinity];

  test('temperature 0 is argmax; -Infinity is never drawn; nothing allowed gives -1', () => {
    const scratch = new Float32Array(6);
    expect(sampleToken(Float32Array.from(logits), 0, 6, { ...base, temperature: 0 }, createSeededRandom(1), scratch)).toBe(0);
    expect(histogram(logits, base)[5]).toBe(0);
    expect(sampleToken(new Float32Array([-Infinity, -Infinity]), 0, 2, base, createSeededRandom(1), scratch)).toBe(-1);
  });

  test('plain sampling follows the softmax', () => {
    const counts = histogram(logits, base, 20000);
    const weights = logits.map((value) => Math.exp(value));
    const total = weights.reduce((sum, value) => sum + value, 0);
    counts.forEach((count, index) => expect(Math.abs(count / 20000 - weights[index] / total)).toBeLessThan(0.02));
  });

  test('top-k keeps the k best', () => {
    const counts = histogram(logits, { ...base, topK: 2 });
    expect(counts[0] + counts[1]).toBe(4000);
    expect(counts[1]).toBeGreaterThan(0);
  });

  test('top-p keeps the smallest set reaching p', () => {
    // softmax of [2,1,0.5,0,-1] ≈ [0.53, 0.19, 0.12, 0.07, 0.03]: p = 0.7 keeps the first two.
    const counts = histogram(logits, { ...base, topP: 0.7 });
    expect(counts[0] + counts[1]).toBe(4000);
    expect(counts[1]).toBeGreaterThan(0);
    const wide = histogram(logits, { ...base, topP: 0.9 });
    expect(wide[2]).toBeGreaterThan(0);
    expect(wide[4]).toBe(0);
  });

  test('top-p shortcut and full sort agree on a flat tail', () => {
    // Many tiny tokens: the nucleus needs most of them, so the floor shortcut must fall back.
    const flat = [5, ...new Array(2000).fill(0)];
    const counts = histogram(flat, { ...base, topP: 0.99 }, 3000);
    expect(counts.slice(1).some((count) => count > 0)).toBe(true);
  });

  test('min-p drops tokens below min_p × the top probability', () => {
    // p(1)/p(0) = e^-1 ≈ 0.37, p(2)/p(0) = e^-1.5 ≈ 0.22: min_p 0.3 keeps tokens 0 and 1.
    const counts = histogram(logits, { ...base, minP: 0.3 });
    expect(counts[0] + counts[1]).toBe(4000);
    expect(counts[1]).toBeGreaterThan(0);
  });

  test('the same seed gives the same draws; another seed does not', () => {
    expect(histogram(logits, base, 200, 7)).toEqual(histogram(logits, base, 200, 7));
    const first = createSeededRandom(7);
    const second = createSeededRandom(8);
    const a = Array.from({ length: 8 }, () => first());
    const b = Array.from({ length: 8 }, () => second());
    expect(a).not.toEqual(b);
    expect(a.every((value) => value >= 0 && value < 1)).toBe(true);
    // Seeds above 2^32 are distinct from their low 32 bits.
    expect(createSeededRandom(2 ** 32 + 5)()).not.toBe(createSeededRandom(5)());
  });
});

describe('nucleusCutoff', () => {
  /** The definition: sort descending, sum until topP of the mass; the last kept weight and its kept ties. */
  function bySorting(weights: Float32Array, topP: number): [number, number] {
    const sorted = Float32Array.from(weights).sort().reverse();
    let mass = 0;
    for (const weight of sorted) mass += weight;
    let cumulative = 0;
    let kept = sorted.length;
    for (let index = 0; index < sorted.length; index++) {
      cumulative += sorted[index];
      if (cumulative >= topP * mass) {
        kept = index + 1;
        break;
      }
    }
    const cutoff = sorted[kept - 1];
    return [cutoff, sorted.subarray(0, kept).filter((weight) => weight === cutoff).length];
  }

  test('gives what sorting gives, ties included, on weights above 2^-14', () => {
    const random = createSeededRandom(11);
    for (let trial = 0; trial < 400; trial++) {
      const count = 1 + Math.floor(random() * 1500);
      const weights = new Float32Array(count);
      // Flat, peaked and tied weights: some drawn from a few repeated values.
      const spread = 1 + random() * 12;
      const palette = Array.from({ length: 1 + Math.floor(random() * 6) }, () => Math.exp(-random() * spread));
      for (let index = 0; index < count; index++) {
        weights[index] = Math.max(2 ** -14, random() < 0.3 ? palette[index % palette.length] : Math.exp(-random() * spread));
      }
      weights[Math.floor(random() * count)] = 1;
      const topP = [0.05, 0.5, 0.9, 0.95, 0.999, random()][trial % 6] || 0.5;
      expect(nucleusCutoff(Float32Array.from(weights), count, topP)).toEqual(bySorting(weights, topP));
    }
  });
});

describe('applyRepetitionPenalty', () => {
  test('divides positive and multiplies negative logits of seen tokens', () => {
    const logits = new Float32Array([2, -2, 3]);
    applyRepetitionPenalty(logits, 0, [0, 1], 2);
    expect(Array.from(logits)).toEqual([1, -4, 3]);
  });
});
