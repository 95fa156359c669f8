/**
 * sampleToken: picks the next token of one sequence from its row of logits, in Hugging Face's order:
 * repetition penalty → (constraint mask, applied by the caller) → temperature → top-k → top-p → min-p
 * → one draw from the seeded generator. Temperature 0 is greedy (argmax, no draw).
 *
 * Cost matters (it runs once per token per sequence, over the whole vocabulary): the common cases are
 * single passes; top-k / top-p sort only the tokens above a probability floor (after proving that every
 * survivor lies above it), with a native numeric sort, and never a comparator callback.
 */
import type { RandomSource } from './seeded-random';

export interface SamplerSettings {
  temperature: number;
  topK: number;
  topP: number;
  minP: number;
  repetitionPenalty: number;
}

/** HF's rule: a seen token's positive logit is divided by the penalty, a negative one multiplied. */
export function applyRepetitionPenalty(logits: Float32Array, offset: number, seen: readonly number[], penalty: number): void {
  if (penalty === 1) return;
  for (const token of seen) {
    const value = logits[offset + token];
    logits[offset + token] = value > 0 ? value / penalty : value * penalty;
  }
}

/** Index of the largest finite logit in [offset, offset + size), or -1 when every one is -Infinity. */
export function argmax(logits: Float32Array, offset: number, size: number): number {
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
const FLOORS = [1e-2, 1e-4, 1e-7];

/**
 * Above this floor (2^-14), every candidate weight is a float32 multiple of 2^-37 and at most 1, so any
 * sum of up to 2^11 of them is exact in a double, whatever the order of the additions.
 */
const EXACT_SUM_FLOOR = 2 ** -14;
const MAX_EXACT_CANDIDATES = 2 ** 11;

/** Reused across calls (the decode loop is single-threaded): the candidate weights. */
let candidateBuffer = new Float32Array(256);

/**
 * The top-p cut-off of `count` candidate weights, as [the cut-off weight, how many tokens of exactly that
 * weight are kept] — what sorting them in descending order and summing until `topP` of their mass would
 * give, found by a three-way quickselect on mass instead (expected linear time). It gives the very same
 * answer only because every sum involved is exact (see EXACT_SUM_FLOOR): the caller checks that.
 * Reorders `weights[0 .. count)`.
 */
export function nucleusCutoff(weights: Float32Array, count: number, topP: number): [number, number] {
  let mass = 0;
  for (let index = 0; index < count; index++) mass += weights[index];
  const target = topP * mass;
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
    // Unreachable while the sums are exact (the whole mass reaches the target); kept as a guard.
    if (lo >= hi) return [pivot, equal];
  }
}

/**
 * Samples one token from logits[offset .. offset+size). Returns -1 when no token is allowed.
 * `scratch` must hold at least `size` floats (reused across calls to avoid per-token allocation).
 */
export function sampleToken(logits: Float32Array, offset: number, size: number, settings: SamplerSettings, random: RandomSource, scratch: Float32Array): number {
  const best = argmax(logits, offset, size);
  if (best < 0 || settings.temperature <= 0) return best;
  const inverse = 1 / settings.temperature;
  const maxLogit = logits[offset + best];
  const topK = settings.topK > 0 && settings.topK < size ? settings.topK : 0;
  const useTopP = settings.topP > 0 && settings.topP < 1;
  const useMinP = settings.minP > 0;
  // Probabilities (unnormalised; the top weight is 1) into scratch, with the count and mass above each
  // candidate floor gathered in the same pass. A weight below e^-40 is taken as 0: its chance of being
  // drawn is far below float32 resolution, and skipping exp() there is most of the pass's cost.
  let total = 0;
  const floorCount = [0, 0, 0];
  const floorMass = [0, 0, 0];
  const cut = -40 / inverse;
  for (let index = 0; index < size; index++) {
    const delta = logits[offset + index] - maxLogit;
    if (!(delta > cut)) {
      scratch[index] = 0;
      continue;
    }
    const weight = Math.exp(delta * inverse);
    scratch[index] = weight;
    total += weight;
    if (weight > FLOORS[2]) {
      floorCount[2]++;
      floorMass[2] += weight;
      if (weight > FLOORS[1]) {
        floorCount[1]++;
        floorMass[1] += weight;
        if (weight > FLOORS[0]) {
          floorCount[0]++;
          floorMass[0] += weight;
        }
      }
    }
  }

  if (!topK && !useTopP) {
    // min-p alone: drop tokens below minP × the top probability (the top weight is 1).
    if (useMinP) {
      total = 0;
      for (let index = 0; index < size; index++) {
        if (scratch[index] < settings.minP) scratch[index] = 0;
        total += scratch[index];
      }
    }
    return drawByWeight(scratch, size, total, best, random);
  }

  // Which tokens survive top-k / top-p / min-p is decided on the sorted weights of a candidate set
  // (tokens above a floor, proven to contain every survivor), with a native numeric sort — no comparator.
  // The survivors are then all tokens above the cut-off weight plus the first ties at it (by id), and the
  // draw walks them in id order: the same set and distribution as sorting, deterministic, and cheap.
  let floor = 0;
  let count = size;
  for (let level = 0; level < FLOORS.length; level++) {
    const enough = topK ? floorCount[level] >= topK : !useTopP || floorMass[level] >= settings.topP * total;
    if (enough) {
      floor = FLOORS[level];
      count = floorCount[level];
      break;
    }
  }
  if (floor === 0) {
    count = 0;
    for (let index = 0; index < size; index++) if (scratch[index] > 0) count++;
  }
  if (candidateBuffer.length < count) candidateBuffer = new Float32Array(Math.max(count, candidateBuffer.length * 2));
  const candidates = candidateBuffer;
  let at = 0;
  for (let index = 0; index < size; index++) if (scratch[index] > floor) candidates[at++] = scratch[index];
  let cutoff: number;
  let tiesLeft: number;
  if (!topK && useTopP && !useMinP && floor >= EXACT_SUM_FLOOR && count <= MAX_EXACT_CANDIDATES) {
    [cutoff, tiesLeft] = nucleusCutoff(candidates, count, settings.topP);
  } else {
    const sorted = candidates.subarray(0, count);
    sorted.sort();
    sorted.reverse();
    let kept = topK ? Math.min(topK, count) : count;
    if (useTopP) {
      let keptMass = 0;
      for (let index = 0; index < kept; index++) keptMass += sorted[index];
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
  // Zero out everything that did not survive, in id order, and sum the survivors.
  let keptTotal = 0;
  for (let index = 0; index < size; index++) {
    const weight = scratch[index];
    if (weight > cutoff) keptTotal += weight;
    else if (weight === cutoff && weight > 0 && tiesLeft > 0) {
      tiesLeft--;
      keptTotal += weight;
    } else scratch[index] = 0;
  }
  return drawByWeight(scratch, size, keptTotal, best, random);
}

/** Draws an index with probability weight / total, walking the non-zero weights in id order; `fallback` when rounding leaves none. */
function drawByWeight(weights: Float32Array, size: number, total: number, fallback: number, random: RandomSource): number {
  let target = random() * total;
  let last = fallback;
  for (let index = 0; index < size; index++) {
    const weight = weights[index];
    if (weight === 0) continue;
    last = index;
    target -= weight;
    if (target < 0) return index;
  }
  return last;
}
