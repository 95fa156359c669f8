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

/**
 * The sampler's definition, written the plain way: float32 weights exp((logit - max) / T) (0 below e^-40),
 * sorted by weight (ties by id); top-k keeps the first k; top-p keeps the fewest whose weights reach topP
 * of the mass top-k left (the whole vocabulary's without top-k); min-p drops those under minP × the top
 * weight; then one draw walks the survivors in id order.
 */
function referenceSample(logits: Float32Array, settings: SamplerSettings, random: () => number): number {
  let best = -1;
  for (let index = 0; index < logits.length; index++) if (logits[index] > (best < 0 ? -Infinity : logits[best])) best = index;
  if (best < 0 || settings.temperature <= 0) return best;
  const weights = Array.from(logits, (logit) => {
    const delta = logit - logits[best];
    return delta > -40 * settings.temperature ? Math.fround(Math.exp(delta / settings.temperature)) : 0;
  });
  const order = weights
    .map((weight, id) => ({ weight, id }))
    .filter((entry) => entry.weight > 0)
    .sort((a, b) => b.weight - a.weight || a.id - b.id);
  let kept = order;
  if (settings.topK > 0) kept = kept.slice(0, settings.topK);
  if (settings.topP > 0 && settings.topP < 1) {
    let mass = 0;
    for (const entry of [...kept].sort((a, b) => a.id - b.id)) mass += entry.weight;
    let cumulative = 0;
    const index = kept.findIndex((entry) => (cumulative += entry.weight) >= settings.topP * mass);
    if (index >= 0) kept = kept.slice(0, index + 1);
  }
  if (settings.minP > 0) {
    const threshold = settings.minP * kept[0].weight;
    while (kept.length > 1 && kept[kept.length - 1].weight < threshold) kept = kept.slice(0, -1);
  }
  const survivors = [...kept].sort((a, b) => a.id - b.id);
  let total = 0;
  for (const entry of survivors) total += entry.weight;
  let target = random() * total;
  for (const entry of survivors) {
    target -= entry.weight;
    if (target < 0) return entry.id;
  }
  return survivors[survivors.length - 1].id;
}

describe('sampleToken against its definition', () => {
  test('top-p keeps topP of the whole vocabulary\'s mass, not of the tokens above a floor', () => {
    // One token of weight 1, fifty of ~0.011 and a thousand of ~5e-5 (mass ~0.05): 95% of the whole mass
    // (~1.6) needs the top token and 48 of the fifty; 95% of the mass above 1e-4 alone stops at 1 + 43.
    const logits = new Float32Array([0, ...new Array(50).fill(Math.log(0.011)), ...new Array(1000).fill(Math.log(5e-5))]);
    const settings = { ...base, topP: 0.95 };
    const drawn = new Set<number>();
    const random = createSeededRandom(3);
    const scratch = new Float32Array(logits.length);
    for (let draw = 0; draw < 6000; draw++) drawn.add(sampleToken(Float32Array.from(logits), 0, logits.length, settings, random, scratch));
    const expected = new Set<number>();
    const probe = createSeededRandom(3);
    for (let draw = 0; draw < 6000; draw++) expected.add(referenceSample(logits, settings, probe));
    expect([...drawn].sort((a, b) => a - b)).toEqual([...expected].sort((a, b) => a - b));
    expect(drawn.size).toBe(49);
  });

  test('draws what the definition draws, seed for seed, across shapes and settings', () => {
    const shapes = createSeededRandom(21);
    const settingsList: SamplerSettings[] = [
      { ...base },
      { ...base, temperature: 0.7, topP: 0.9 },
      { ...base, temperature: 0.8, topP: 0.95 },
      { ...base, temperature: 1.3, topP: 0.5 },
      { ...base, topK: 5 },
      { ...base, topK: 40, topP: 0.8 },
      { ...base, minP: 0.05 },
      { ...base, topP: 0.9, minP: 0.1 },
      { ...base, temperature: 0.2, topP: 0.99 },
      { ...base, temperature: 0 },
    ];
    let compared = 0;
    for (let trial = 0; trial < 160; trial++) {
      const size = 1 + Math.floor(shapes() * 3000);
      const logits = new Float32Array(size);
      const kind = trial % 4;
      for (let index = 0; index < size; index++) {
        // Flat, peaked (a few high logits), tied (a few repeated values), and partly masked rows.
        if (kind === 0) logits[index] = shapes() * 4;
        else if (kind === 1) logits[index] = shapes() < 0.01 ? 10 + shapes() * 5 : shapes() * 6;
        else if (kind === 2) logits[index] = [0, 1.5, 3, 3][Math.floor(shapes() * 4)];
        else logits[index] = shapes() < 0.5 ? -Infinity : shapes() * 12 - 6;
      }
      if (kind === 3) logits[Math.floor(shapes() * size)] = 1;
      const settings = settingsList[trial % settingsList.length];
      const ours = createSeededRandom(trial);
      const theirs = createSeededRandom(trial);
      const scratch = new Float32Array(size);
      for (let draw = 0; draw < 25; draw++) {
        expect(sampleToken(Float32Array.from(logits), 0, size, settings, ours, scratch)).toBe(referenceSample(logits, settings, theirs));
        compared++;
      }
    }
    expect(compared).toBe(4000);
  });
});

describe('nucleusCutoff', () => {
  /** The definition: sort descending, sum until the target; the last kept weight and its kept ties. */
  function bySorting(weights: Float32Array, target: number): [number, number] {
    const sorted = Float32Array.from(weights).sort().reverse();
    let cumulative = 0;
    let kept = sorted.length;
    for (let index = 0; index < sorted.length; index++) {
      cumulative += sorted[index];
      if (cumulative >= target) {
        kept = index + 1;
        break;
      }
    }
    const cutoff = sorted[kept - 1];
    return [cutoff, sorted.subarray(0, kept).filter((weight) => weight === cutoff).length];
  }

  test('keeps everything when the target is beyond the whole mass', () => {
    expect(nucleusCutoff(new Float32Array([1, 0.5, 0.25, 0.25]), 4, 10)).toEqual([0.25, 2]);
  });

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
      let mass = 0;
      for (const weight of weights) mass += weight;
      // The target is topP of a mass that may include tokens outside the candidates (a larger total).
      const target = topP * mass * (trial % 3 === 0 ? 1 + random() * 0.05 : 1);
      expect(nucleusCutoff(Float32Array.from(weights), count, target)).toEqual(bySorting(weights, target));
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
