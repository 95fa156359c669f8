/**
 * sampleToken: picks the next token of one sequence from its row of logits, in Hugging Face's order:
 * repetition penalty → (constraint mask, applied by the caller) → temperature → top-k → top-p → min-p
 * → one draw from the seeded generator. Temperature 0 is greedy (argmax, no draw).
 *
 * Cost matters (it runs once per token per sequence, over the whole vocabulary): the common cases are
 * single passes; top-p sorts only the tokens above a probability floor, and proves that the nucleus lies
 * inside them (their mass reaches top_p) before trusting the shortcut — otherwise it sorts them all.
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

const TOP_P_FLOOR = 1e-6;

/**
 * Samples one token from logits[offset .. offset+size). Returns -1 when no token is allowed.
 * `scratch` must hold at least `size` floats (reused across calls to avoid per-token allocation).
 */
export function sampleToken(logits: Float32Array, offset: number, size: number, settings: SamplerSettings, random: RandomSource, scratch: Float32Array): number {
  const best = argmax(logits, offset, size);
  if (best < 0 || settings.temperature <= 0) return best;
  const inverse = 1 / settings.temperature;
  const maxLogit = logits[offset + best];
  // probabilities (unnormalised) into scratch
  let total = 0;
  for (let index = 0; index < size; index++) {
    const value = logits[offset + index];
    const weight = value === -Infinity ? 0 : Math.exp((value - maxLogit) * inverse);
    scratch[index] = weight;
    total += weight;
  }
  const topK = settings.topK > 0 && settings.topK < size ? settings.topK : 0;
  const useTopP = settings.topP > 0 && settings.topP < 1;
  const useMinP = settings.minP > 0;

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

  // Candidates above a floor, sorted by weight (ties by id, so the order is deterministic).
  let floor = useTopP && !topK ? TOP_P_FLOOR * total : 0;
  let candidates = collect(scratch, size, floor);
  if (floor > 0) {
    let mass = 0;
    for (const index of candidates) mass += scratch[index];
    if (mass < settings.topP * total) {
      floor = 0;
      candidates = collect(scratch, size, 0);
    }
  }
  candidates.sort((left, right) => scratch[right] - scratch[left] || left - right);
  let kept = topK ? Math.min(topK, candidates.length) : candidates.length;
  if (useTopP) {
    let keptMass = 0;
    for (let index = 0; index < kept; index++) keptMass += scratch[candidates[index]];
    let cumulative = 0;
    for (let index = 0; index < kept; index++) {
      cumulative += scratch[candidates[index]];
      if (cumulative >= settings.topP * keptMass) {
        kept = index + 1;
        break;
      }
    }
  }
  if (useMinP) {
    const threshold = settings.minP * scratch[candidates[0]];
    while (kept > 1 && scratch[candidates[kept - 1]] < threshold) kept--;
  }
  let keptTotal = 0;
  for (let index = 0; index < kept; index++) keptTotal += scratch[candidates[index]];
  let target = random() * keptTotal;
  for (let index = 0; index < kept; index++) {
    target -= scratch[candidates[index]];
    if (target < 0) return candidates[index];
  }
  return candidates[kept - 1];
}

function collect(weights: Float32Array, size: number, floor: number): number[] {
  const result: number[] = [];
  for (let index = 0; index < size; index++) if (weights[index] > floor) result.push(index);
  return result;
}
