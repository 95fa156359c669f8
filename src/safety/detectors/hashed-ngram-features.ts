/**
 * Hashed word and character n-gram features for the linear injection/jailbreak classifier — the TypeScript twin of
 * tools/train-injection-classifier/features.py (a golden file in models/guards/ pins the two together).
 * Text → NFKC, lower case, whitespace runs → one space, first 16,000 characters. Features: `w:word`,
 * `b:word next`, `c:gram` for character 3..5-grams over " " + text + " " with non-ASCII characters as "#".
 * Each distinct feature hashes (FNV-1a 32-bit over UTF-8; all features are ASCII) into `dimension` buckets;
 * values are presence, L2-normalised, so that the length of a text does not scale its score.
 */

export const DEFAULT_FEATURE_DIMENSION = 1 << 17;
export const MAX_FEATURE_CHARS = 16000;

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

export function featurize(text: string, dimension = DEFAULT_FEATURE_DIMENSION): SparseFeatures {
  const normalized = normalizeForFeatures(text);
  const seen = new Set<string>();
  const buckets = new Map<number, number>();
  const add = (hash: number) => {
    const bucket = hash % dimension;
    buckets.set(bucket, (buckets.get(bucket) ?? 0) + 1);
  };
  const words = normalized.match(/[a-z0-9']+/g) ?? [];
  for (let index = 0; index < words.length; index++) {
    const word = `w:${words[index]}`;
    if (!seen.has(word)) {
      seen.add(word);
      add(fnv1aAscii('', word, 0, word.length));
    }
    if (index + 1 < words.length) {
      const bigram = `b:${words[index]} ${words[index + 1]}`;
      if (!seen.has(bigram)) {
        seen.add(bigram);
        add(fnv1aAscii('', bigram, 0, bigram.length));
      }
    }
  }
  const chars = ` ${normalized.replace(/[^\x00-\x7f]/g, '#')} `;
  for (let n = 3; n <= 5; n++) {
    for (let start = 0; start + n <= chars.length; start++) {
      const gram = chars.slice(start, start + n);
      const key = `c:${gram}`;
      if (seen.has(key)) continue;
      seen.add(key);
      add(fnv1aAscii('c:', chars, start, start + n));
    }
  }
  const indices = [...buckets.keys()].sort((a, b) => a - b);
  let norm = 0;
  for (const value of buckets.values()) norm += value * value;
  norm = Math.sqrt(norm) || 1;
  return { indices, values: indices.map((index) => (buckets.get(index) as number) / norm) };
}
