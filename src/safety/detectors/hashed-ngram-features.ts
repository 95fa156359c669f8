/**
 * Hashed word and character n-gram features for the linear injection/jailbreak classifier — the TypeScript twin of
 * tools/train-injection-classifier/features.py (a golden file in models/guards/ pins the two together).
 * Text → NFKC, lower case, whitespace runs → one space, first 16,000 characters. Features: `w:word`,
 * `b:word next`, `c:gram` for character 3..5-grams over " " + text + " " with non-ASCII characters as "#".
 * Each distinct feature hashes (FNV-1a 32-bit over UTF-8; all features are ASCII) into `dimension` buckets;
 * values are presence counts per bucket, L1-normalised: a linear score is then the mean weight of the text's
 * features and does not grow with its length (with L2 it grew with √(number of features), and long benign
 * documents drifted towards "attack"). The window classifier (short windows, where length does not vary much) keeps
 * L2 (`l2-presence` in its sidecar).
 * Optional prior pseudo-feature (`p:prior`, counted `priorMass` times instead of once, before normalising; sidecar
 * `features.prior_mass`): its share of the mass is priorMass / (N + priorMass) for a text with N feature counts, so its
 * learnt weight is a prior that short texts (little evidence) fall back to and long ones wash out. Without it L1
 * normalisation hid all length information, and a short question about an unusual name ("Who is Joram Valcourt?"),
 * whose words the classifier had never seen, fell back to the jailbreak head's bias — above its threshold.
 */

export const DEFAULT_FEATURE_DIMENSION = 1 << 17;
export const MAX_FEATURE_CHARS = 16000;
/** Largest prior pseudo-count accepted (bucket counts are 16-bit). */
export const MAX_PRIOR_MASS = 1024;
const PRIOR_FEATURE = 'p:prior';

export interface SparseFeatures {
  /** Bucket indices, ascending. */
  indices: number[];
  values: number[];
}

export function normalizeForFeatures(text: string): string {
  return text.normalize('NFKC').toLowerCase().replace(/\s+/g, ' ').trim().slice(0, MAX_FEATURE_CHARS);
}

/** FNV-1a 32-bit over the UTF-8 bytes of a string. */
export function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  const bytes = Buffer.from(text, 'utf8');
  for (let index = 0; index < bytes.length; index++) {
    hash ^= bytes[index];
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

/** FNV-1a over an ASCII string without allocating (the hot path: thousands of n-grams per prompt). */
function fnv1aAscii(prefix: string, text: string, start: number, end: number): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < prefix.length; index++) {
    hash ^= prefix.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  for (let index = start; index < end; index++) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

let scratch = new Uint16Array(0);

export type FeatureNormalization = 'l1-presence' | 'l2-presence';

export function featurize(
  text: string,
  dimension = DEFAULT_FEATURE_DIMENSION,
  normalization: FeatureNormalization = 'l1-presence',
  priorMass = 0,
): SparseFeatures {
  const prior = Math.max(0, Math.min(MAX_PRIOR_MASS, Math.floor(priorMass)));
  const normalized = normalizeForFeatures(text);
  // Distinct features are told apart by their hash (30 bits kept so that the Set holds small integers: a collision
  // among a few thousand features is rare), then counted per bucket exactly as the Python twin does. The bucket
  // counts live in a reused scratch array; only touched buckets are read back and cleared.
  if (scratch.length !== dimension) scratch = new Uint16Array(dimension);
  const counts = scratch;
  const seen = new Set<number>();
  const touched: number[] = [];
  const add = (hash: number) => {
    const key = hash >>> 2;
    if (seen.has(key)) return;
    seen.add(key);
    const bucket = hash % dimension;
    if (counts[bucket] === 0) touched.push(bucket);
    counts[bucket]++;
  };
  const words = normalized.match(/[a-z0-9']+/g) ?? [];
  for (let index = 0; index < words.length; index++) {
    add(fnv1aAscii('w:', words[index], 0, words[index].length));
    if (index + 1 < words.length) {
      const bigram = `${words[index]} ${words[index + 1]}`;
      add(fnv1aAscii('b:', bigram, 0, bigram.length));
    }
  }
  const chars = ` ${normalized.replace(/[^\x00-\x7f]/g, '#')} `;
  // 3-, 4- and 5-grams from one start share their hash prefix: extend the FNV state one character at a time.
  const prefixState = fnv1aAscii('c:', '', 0, 0);
  for (let start = 0; start + 3 <= chars.length; start++) {
    let hash = prefixState;
    const end = Math.min(chars.length, start + 5);
    for (let index = start; index < end; index++) {
      hash ^= chars.charCodeAt(index);
      hash = Math.imul(hash, 0x01000193) >>> 0;
      if (index - start >= 2) add(hash);
    }
  }
  if (prior > 0) {
    const bucket = fnv1a(PRIOR_FEATURE) % dimension;
    if (counts[bucket] === 0) touched.push(bucket);
    counts[bucket] += prior;
  }
  const indices = Int32Array.from(touched).sort();
  let norm = 0;
  if (normalization === 'l2-presence') {
    for (const index of indices) norm += counts[index] * counts[index];
    norm = Math.sqrt(norm) || 1;
  } else {
    for (const index of indices) norm += counts[index];
    norm = norm || 1;
  }
  const values = new Array<number>(indices.length);
  for (let k = 0; k < indices.length; k++) {
    values[k] = counts[indices[k]] / norm;
    counts[indices[k]] = 0;
  }
  return { indices: Array.from(indices), values };
}
