/**
 * sampleToken: picks the next token of one sequence from its row of logits, in Hugging Face's order:
 * repetition penalty → (constraint mask, applied by the caller) → temperature → top-k → top-p → min-p
 * → one draw from the seeded generator. Temperature 0 is greedy (argmax, no draw).
 *
 * Cost matters (it runs once per token per sequence, over the whole vocabulary). Plain sampling is one
 * pass and a draw. Top-p alone (the common case) is one pass that also gathers the tokens above a floor
 * without a branch, then a quickselect on their mass and a draw among them. Top-k and min-p sort the
 * tokens above a floor (after proving that every survivor lies above it) with a native numeric sort,
 * never a comparator callback. tests/unit/onnx/sampler.test.ts holds every path to a plain-sorting
 * definition, draw for draw.
 */
import type { RandomSource } from './seeded-random';

export interface SamplerSettings {
  temperature: number;
  topK: number;
  topP: number;
  minP: number;
  repetitionPenalty: number;
}

export type SampleToken = (logits: Float32Array, offset: number, size: number, settings: SamplerSettings, random: RandomSource, scratch: Float32Array) => number;

export interface Sampler {
  /** HF's rule: a seen token's positive logit is divided by the penalty, a negative one multiplied. */
  applyRepetitionPenalty(logits: Float32Array, offset: number, seen: readonly number[], penalty: number): void;
  /** Index of the largest finite logit in [offset, offset + size), or -1 when every one is -Infinity. */
  argmax(logits: Float32Array, offset: number, size: number): number;
  nucleusCutoff(weights: Float32Array, count: number, target: number): [number, number];
  sampleToken: SampleToken;
}

/**
 * A sampler with buffers of its own. Self-contained on purpose — it refers to nothing outside its body —
 * so the session worker can rebuild it from its source text (`createSampler.toString()`), compiled or
 * from the TypeScript sources alike, and sample rows of a step on its own thread.
 */
export function createSampler(): Sampler {
  /** HF's rule: a seen token's positive logit is divided by the penalty, a negative one multiplied. */
  function applyRepetitionPenalty(logits: Float32Array, offset: number, seen: readonly number[], penalty: number): void {
    if (penalty === 1) return;
    for (const token of seen) {
      const value = logits[offset + token];
      logits[offset + token] = value > 0 ? value / penalty : value * penalty;
    }
  }

  /** Index of the largest finite logit in [offset, offset + size), or -1 when every one is -Infinity. */
  function argmax(logits: Float32Array, offset: number, size: number): number {
    let best = -1;
    let bestValue = -Infinity;
    for (let index = 0; index < size; index++) {
      const value = logits[offset + index];
      if (value > bestValue) {
        bestValue = value;
        best = index;
      }
    }
    return best;
  }

  /** Candidate floors tried in turn (weights are relative to the top token's, which is 1); then all. */
  const FLOOR_0 = 1e-2;
  const FLOOR_1 = 1e-4;
  const FLOOR_2 = 1e-7;

  /**
   * Above this floor (2^-14), every candidate weight is a float32 multiple of 2^-37 and at most 1, so any
   * sum of up to 2^11 of them is exact in a double, whatever the order of the additions.
   */
  const EXACT_SUM_FLOOR = 2 ** -14;
  const MAX_EXACT_CANDIDATES = 2 ** 11;

  /** Reused across calls (one sampler per thread): the candidates' ids and weights, in id order, and a copy to reorder. */
  let candidateIds = new Int32Array(256);
  let candidateWeights = new Float32Array(256);
  let selectBuffer = new Float32Array(256);
  const LEVEL_COUNT = new Int32Array(4);
  const LEVEL_MASS = new Float64Array(4);

  /** The reused candidate arrays, grown to hold at least `count`; returns the ids (the weights are `candidateWeights`). */
  function candidateArrays(count: number): Int32Array {
    if (candidateIds.length < count) {
      const length = Math.max(count, candidateIds.length * 2);
      candidateIds = new Int32Array(length);
      candidateWeights = new Float32Array(length);
      selectBuffer = new Float32Array(length);
    }
    return candidateIds;
  }

  /**
   * The top-p cut-off of `count` candidate weights, as [the cut-off weight, how many tokens of exactly that
   * weight are kept] — what sorting them in descending order and summing until the sum reaches `target`
   * would give, found by a three-way quickselect on mass instead (expected linear time). It gives the very
   * same answer only because every sum involved is exact (see EXACT_SUM_FLOOR): the caller checks that.
   * When the candidates' whole mass stays below `target`, the answer is the smallest weight, all its ties
   * kept. Reorders `weights[0 .. count)`.
   */
  function nucleusCutoff(weights: Float32Array, count: number, target: number): [number, number] {
    // weights[lo .. hi) holds the undecided candidates; `above` is the mass of those known to be larger.
    let lo = 0;
    let hi = count;
    let above = 0;
    for (;;) {
      const a = weights[lo];
      const b = weights[(lo + hi) >>> 1];
      const c = weights[hi - 1];
      const pivot = a < b ? (b < c ? b : a < c ? c : a) : a < c ? a : b < c ? c : b;
      // Three-way partition, larger first: [lo, larger) > pivot, [larger, index) = pivot, [smaller, hi) < pivot.
      let larger = lo;
      let index = lo;
      let smaller = hi;
      let largerMass = 0;
      while (index < smaller) {
        const value = weights[index];
        if (value > pivot) {
          weights[index] = weights[larger];
          weights[larger] = value;
          larger++;
          index++;
          largerMass += value;
        } else if (value < pivot) {
          smaller--;
          weights[index] = weights[smaller];
          weights[smaller] = value;
        } else {
          index++;
        }
      }
      if (above + largerMass >= target) {
        hi = larger;
        continue;
      }
      const equal = smaller - larger;
      let cumulative = above + largerMass;
      for (let tie = 1; tie <= equal; tie++) {
        cumulative += pivot;
        if (cumulative >= target) return [pivot, tie];
      }
      above = cumulative;
      lo = smaller;
      // The whole mass stays below the target: everything is kept.
      if (lo >= hi) return [pivot, equal];
    }
  }

  /**
   * Samples one token from logits[offset .. offset+size). Returns -1 when no token is allowed.
   * `scratch` must hold at least `size` floats (reused across calls to avoid per-token allocation).
   *
   * Weights are float32 (`exp((logit - max) / temperature)`, the top token's is 1) and sums are doubles.
   * Top-p keeps the fewest top tokens whose weights reach `topP` of the mass that top-k left (the whole
   * vocabulary without top-k), as Hugging Face's TopPLogitsWarper does on the softmax.
   */
  function sampleToken(logits: Float32Array, offset: number, size: number, settings: SamplerSettings, random: RandomSource, scratch: Float32Array): number {
    const best = argmax(logits, offset, size);
    if (best < 0 || settings.temperature <= 0) return best;
    const inverse = 1 / settings.temperature;
    const maxLogit = logits[offset + best];
    const topK = settings.topK > 0 && settings.topK < size ? settings.topK : 0;
    const useTopP = settings.topP > 0 && settings.topP < 1;
    const useMinP = settings.minP > 0;
    // A weight below e^-40 is taken as 0: its chance of being drawn is far below float32 resolution, and
    // skipping exp() there saves most of the pass on a peaked distribution.
    const cut = -40 / inverse;

    if (!topK && !useTopP) {
      // Plain sampling, or min-p alone (drop tokens below minP × the top probability, i.e. weight < minP).
      const minWeight = useMinP ? settings.minP : 0;
      let total = 0;
      for (let index = 0; index < size; index++) {
        const delta = logits[offset + index] - maxLogit;
        let weight = 0;
        if (delta > cut) {
          weight = Math.fround(Math.exp(delta * inverse));
          if (weight < minWeight) weight = 0;
        }
        scratch[index] = weight;
        total += weight;
      }
      return drawByWeight(scratch, size, total, best, random);
    }

    if (!topK && !useMinP) {
      // Top-p alone, the common case: one pass computes the weights and their total and gathers, without a
      // branch, the tokens above FLOOR_1 (ids and weights, in id order). When those hold topP of the mass,
      // every survivor is among them and their sums are exact, so a quickselect finds the cut-off.
      const ids = candidateArrays(size);
      const weights = candidateWeights;
      let total = 0;
      let count = 0;
      for (let index = 0; index < size; index++) {
        const delta = logits[offset + index] - maxLogit;
        if (!(delta > cut)) continue;
        const weight = Math.fround(Math.exp(delta * inverse));
        total += weight;
        ids[count] = index;
        weights[count] = weight;
        count += weight > FLOOR_1 ? 1 : 0;
      }
      let mass = 0;
      for (let index = 0; index < count; index++) mass += weights[index];
      const target = settings.topP * total;
      if (mass >= target && count <= MAX_EXACT_CANDIDATES) {
        const select = selectBuffer;
        select.set(weights.subarray(0, count));
        const [cutoff, ties] = nucleusCutoff(select, count, target);
        return drawSurvivors(ids, weights, count, cutoff, ties, random);
      }
    }

    // Top-k / top-p (and min-p with them): which tokens survive is decided on a candidate set — the tokens
    // above a floor, proven to contain every survivor — so only the candidates are gathered, selected and
    // walked. The weights pass also gathers the count and mass above each floor.
    // levelCount[l] / levelMass[l]: tokens whose weight is above l of the three floors (counted without
    // branches: the weights fall on either side of a floor at random, and mispredicted branches cost more
    // than the exp).
    const levelCount = LEVEL_COUNT;
    const levelMass = LEVEL_MASS;
    levelCount.fill(0);
    levelMass.fill(0);
    let total = 0;
    for (let index = 0; index < size; index++) {
      const delta = logits[offset + index] - maxLogit;
      if (!(delta > cut)) {
        scratch[index] = 0;
        continue;
      }
      const weight = Math.fround(Math.exp(delta * inverse));
      scratch[index] = weight;
      total += weight;
      const level = ((weight > FLOOR_0) as unknown as number) + ((weight > FLOOR_1) as unknown as number) + ((weight > FLOOR_2) as unknown as number);
      levelCount[level]++;
      levelMass[level] += weight;
    }
    const count0 = levelCount[3];
    const count1 = count0 + levelCount[2];
    const count2 = count1 + levelCount[1];
    const mass0 = levelMass[3];
    const mass1 = mass0 + levelMass[2];
    const mass2 = mass1 + levelMass[1];
    // The floor: the highest one above which lie at least k tokens (top-k) or topP of the mass (top-p), so
    // the survivors all lie above it; with both, top-k decides (top-p then only narrows its k tokens).
    const target = useTopP ? settings.topP * total : 0;
    let floor = 0;
    if (topK ? count0 >= topK : mass0 >= target) floor = FLOOR_0;
    else if (topK ? count1 >= topK : mass1 >= target) floor = FLOOR_1;
    else if (topK ? count2 >= topK : mass2 >= target) floor = FLOOR_2;
    const ids = candidateArrays(size);
    const weights = candidateWeights;
    let count = 0;
    for (let index = 0; index < size; index++) {
      const weight = scratch[index];
      if (weight > floor) {
        ids[count] = index;
        weights[count++] = weight;
      }
    }
    const select = selectBuffer;
    select.set(weights.subarray(0, count));
    let cutoff: number;
    let tiesLeft: number;
    if (!topK && !useMinP && floor >= EXACT_SUM_FLOOR && count <= MAX_EXACT_CANDIDATES) {
      [cutoff, tiesLeft] = nucleusCutoff(select, count, target);
    } else {
      const sorted = select.subarray(0, count);
      sorted.sort();
      sorted.reverse();
      let kept = topK ? Math.min(topK, count) : count;
      if (useTopP) {
        // Top-p over the mass top-k left: the k kept tokens', or the whole vocabulary's.
        let keptMass = total;
        if (topK) {
          keptMass = 0;
          for (let index = 0; index < kept; index++) keptMass += sorted[index];
        }
        let cumulative = 0;
        for (let index = 0; index < kept; index++) {
          cumulative += sorted[index];
          if (cumulative >= settings.topP * keptMass) {
            kept = index + 1;
            break;
          }
        }
      }
      if (useMinP) {
        const threshold = settings.minP * sorted[0];
        while (kept > 1 && sorted[kept - 1] < threshold) kept--;
      }
      cutoff = sorted[kept - 1];
      tiesLeft = 0;
      for (let index = 0; index < kept; index++) if (sorted[index] === cutoff) tiesLeft++;
    }
    return drawSurvivors(ids, weights, count, cutoff, tiesLeft, random);
  }

  /**
   * The survivors of a cut-off, in id order — every candidate above it and the first `ties` at it — are
   * compacted to the front of the candidate arrays; then one draw walks them in that order.
   */
  function drawSurvivors(ids: Int32Array, weights: Float32Array, count: number, cutoff: number, ties: number, random: RandomSource): number {
    let kept = 0;
    let keptTotal = 0;
    for (let index = 0; index < count; index++) {
      const weight = weights[index];
      if (weight > cutoff || (weight === cutoff && ties-- > 0)) {
        ids[kept] = ids[index];
        weights[kept++] = weight;
        keptTotal += weight;
      }
    }
    return drawByWeight(weights, kept, keptTotal, ids[0], random, ids);
  }

  /**
   * Draws with probability weight / total, walking the non-zero weights in order: returns the index, or
   * `ids[index]` when ids are given; the last non-zero one (else `fallback`) when rounding leaves none.
   */
  function drawByWeight(weights: Float32Array, size: number, total: number, fallback: number, random: RandomSource, ids?: Int32Array): number {
    let target = random() * total;
    let last = -1;
    for (let index = 0; index < size; index++) {
      const weight = weights[index];
      if (weight === 0) continue;
      last = index;
      target -= weight;
      if (target < 0) break;
    }
    if (last < 0) return fallback;
    return ids ? ids[last] : last;
  }

  return { applyRepetitionPenalty, argmax, nucleusCutoff, sampleToken };
}

/** The event loop's sampler. */
export const { applyRepetitionPenalty, argmax, nucleusCutoff, sampleToken } = createSampler();
