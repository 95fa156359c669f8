/**
 * createSeededRandom: the decode loop's pseudo-random source. One generator per sequence, seeded with
 * the request's seed + the sample's index, drawn exactly once per sampled token — so a sequence's
 * draws never depend on what else runs in the batch.
 *
 * sfc32 (a small, fast, well-tested 32-bit generator), its four words filled by splitmix32 from the
 * low and high 32 bits of the seed, so seeds up to 2^53 are all distinct.
 */
export type RandomSource = () => number;

function splitmix32(state: { value: number }): number {
  state.value = (state.value + 0x9e3779b9) | 0;
  let z = state.value;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** Returns a function giving uniform floats in [0, 1). */
export function createSeededRandom(seed: number): RandomSource {
  const safe = Number.isFinite(seed) ? Math.trunc(Math.abs(seed)) : 0;
  const low = safe % 0x100000000;
  const high = Math.floor(safe / 0x100000000) >>> 0;
  const state = { value: (low ^ Math.imul(high, 0x27d4eb2d)) | 0 };
  let a = splitmix32(state) ^ high;
  let b = splitmix32(state);
  let c = splitmix32(state);
  let d = splitmix32(state) | 1;
  const next = (): number => {
    a >>>= 0;
    b >>>= 0;
    c >>>= 0;
    d >>>= 0;
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  for (let i = 0; i < 12; i++) next();
  return next;
}
