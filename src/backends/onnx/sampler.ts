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
    let target = random() * total;
    let last = best;
    for (let index = 0; index < size; index++) {
      const weight = scratch[index];
      if (weight === 0) continue;
      last = index;
      target -= weight;
      if (target < 0) return index;
    }
    return last;
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
  const sorted = new Float32Array(count);
  let at = 0;
  for (let index = 0; index < size; index++) if (scratch[index] > floor) sorted[at++] = scratch[index];
  sorted.sort();
  sorted.reverse();
  const candidates = sorted;
  let kept = topK ? Math.min(topK, candidates.length) : candidates.length;
  if (useTopP) {
    let keptMass = 0;
    for (let index = 0; index < kept; index++) keptMass += candidates[index];
    let cumulative = 0;
    for (let index = 0; index < kept; index++) {
      cumulative += candidates[index];
      if (cumulative >= settings.topP * keptMass) {
        kept = index + 1;
        break;
      }
    }
  }
  if (useMinP) {
    const threshold = settings.minP * candidates[0];
    while (kept > 1 && candidates[kept - 1] < threshold) kept--;
  }
  const cutoff = candidates[kept - 1];
  let tiesLeft = 0;
  for (let index = 0; index < kept; index++) if (candidates[index] === cutoff) tiesLeft++;
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
  let target = random() * keptTotal;
  let last = best;
  for (let index = 0; index < size; index++) {
    const weight = scratch[index];
    if (weight === 0) continue;
    last = index;
    target -= weight;
    if (target < 0) return index;
  }
  return last;
}
