/**
 * How a calibrated classifier score and a pattern score combine: the stronger one counts fully, the weaker one
 * adds half a noisy-OR. Two weak signals (0.3 and 0.3 → 0.41) stay below 0.5; two moderate ones (0.45 and 0.4 → 0.56)
 * cross it; one strong one alone decides.
 */
export function combineScores(first: number, second: number): number {
  const high = Math.max(first, second);
  const low = Math.min(first, second);
  return Math.min(1, high + (1 - high) * low * 0.5);
}
