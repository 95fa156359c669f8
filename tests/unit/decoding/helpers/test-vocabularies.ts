/**
 * Vocabularies and walk drivers for the engine tests: a small byte-complete vocabulary built from
 * GPT-2's first tokens (fast enough for brute-force mask checks), the real GPT-2 vocabulary, a seeded
 * PRNG, and a constrained random walk that leans towards finishing after a while.
 */
import type { ConstraintSession } from '../../../../src/decoding/constraint';
import { TokenMask } from '../../../../src/decoding/token-mask';
import type { Vocabulary } from '../../../../src/decoding/vocabulary';
import { loadBenchmarkVocabulary } from '../../../../src/decoding/vocabulary-from-tokenizer';

export function seededRandom(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    // xorshift32
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 4294967296;
  };
}

let small: Vocabulary | null = null;

/** 256 single-byte tokens, GPT-2's tokens 256..2999 (multi-byte), and EOS (id = size - 1). */
export function smallVocabulary(): Vocabulary {
  if (small) return small;
  const gpt2 = loadBenchmarkVocabulary('gpt2');
  const table: Uint8Array[] = [];
  for (let byte = 0; byte < 256; byte++) table.push(Uint8Array.of(byte));
  for (let id = 256; id < 3000; id++) {
    const bytes = gpt2.tokenBytes(id);
    if (bytes && bytes.length > 1) table.push(bytes);
  }
  // A few multi-byte UTF-8 and JSON-ish tokens that cross lexeme boundaries.
  for (const text of ['": "', '", "', '"}', '},', '{"', '\n  ', 'é', '日本', ' = ', '();', '/*', '*/', 'e+', '1.', 'O-O']) {
    table.push(new TextEncoder().encode(text));
  }
  const eos = table.length;
  small = {
    id: 'test:small',
    size: eos + 1,
    eosTokenIds: [eos],
    tokenBytes: (id) => (id >= 0 && id < eos ? table[id] : null),
    encode: (text) => greedyEncode(table, text),
  };
  return small;
}

function greedyEncode(table: Uint8Array[], text: string): number[] {
  const bytes = new TextEncoder().encode(text);
  const ids: number[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    let best = -1;
    let bestLength = 0;
    table.forEach((token, id) => {
      if (token.length <= bestLength || offset + token.length > bytes.length) return;
      for (let i = 0; i < token.length; i++) if (token[i] !== bytes[offset + i]) return;
      best = id;
      bestLength = token.length;
    });
    ids.push(best);
    offset += bestLength;
  }
  return ids;
}

export function gpt2Vocabulary(): Vocabulary {
  return loadBenchmarkVocabulary('gpt2');
}

export interface WalkResult {
  bytes: number[];
  text: string;
  tokens: number[];
  ended: 'eos' | 'finished' | 'length' | 'dead-end';
  maskSizes: number[];
}

/** Characters that tend to close constructs; preferred in the finishing phase. */
const CLOSERS = new Set(['"', '}', ']', ')', ';', '\n', '.', '\'', '/', '=']);

/** The k-th allowed token id (0-based) of a mask. */
export function nthAllowed(mask: TokenMask, k: number): number {
  let remaining = k;
  const bits = mask.bits;
  for (let word = 0; word < bits.length; word++) {
    let value = bits[word];
    if (value === 0) continue;
    let v = value - ((value >>> 1) & 0x55555555);
    v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
    const count = (((v + (v >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
    if (remaining >= count) {
      remaining -= count;
      continue;
    }
    while (value !== 0) {
      const bit = 31 - Math.clz32(value & -value);
      if (remaining === 0) return (word << 5) + bit;
      remaining--;
      value &= value - 1;
    }
  }
  throw new Error('nthAllowed: k out of range');
}

const singleByteCache = new WeakMap<Vocabulary, number[]>();
function singleByteTokens(vocabulary: Vocabulary): number[] {
  let list = singleByteCache.get(vocabulary);
  if (!list) {
    list = [];
    for (let id = 0; id < vocabulary.size; id++) if (vocabulary.tokenBytes(id)?.length === 1) list.push(id);
    singleByteCache.set(vocabulary, list);
  }
  return list;
}

/**
 * A seeded random walk through the masks. First third: uniform over allowed tokens (jump-forward
 * tokens taken when offered, as the decode loop will). Then: EOS when allowed, else single-byte
 * tokens, preferring closing characters.
 */
export function randomWalk(session: ConstraintSession, vocabulary: Vocabulary, seed: number, maxTokens: number, onStep?: (mask: TokenMask) => void): WalkResult {
  const random = seededRandom(seed);
  const mask = new TokenMask(vocabulary.size);
  const bytes: number[] = [];
  const tokens: number[] = [];
  const maskSizes: number[] = [];
  let ended: WalkResult['ended'] = 'length';
  const eos = new Set(vocabulary.eosTokenIds);
  const singles = singleByteTokens(vocabulary);
  for (let step = 0; step < maxTokens; step++) {
    if (session.finished) {
      ended = 'finished';
      break;
    }
    const forced = session.forced();
    session.mask(mask);
    onStep?.(mask);
    const count = mask.count();
    maskSizes.push(count);
    if (count === 0) {
      ended = 'dead-end';
      break;
    }
    let token: number;
    if (forced.length > 0) {
      if (!mask.has(forced[0])) throw new Error(`forced token ${forced[0]} is not in the mask`);
      token = forced[0];
    } else if (step < maxTokens / 3) {
      token = nthAllowed(mask, Math.floor(random() * count));
    } else {
      const eosAllowed = vocabulary.eosTokenIds.find((id) => mask.has(id));
      if (eosAllowed !== undefined) token = eosAllowed;
      else {
        const short = singles.filter((id) => mask.has(id));
        const closing = short.filter((id) => CLOSERS.has(String.fromCharCode(vocabulary.tokenBytes(id)![0])));
        const pool = closing.length > 0 && random() < 0.85 ? closing : short;
        token = pool.length > 0 ? pool[Math.floor(random() * pool.length)] : nthAllowed(mask, Math.floor(random() * count));
      }
    }
    if (!session.advance(token)) throw new Error(`advance rejected allowed token ${token}`);
    tokens.push(token);
    if (eos.has(token)) {
      ended = 'eos';
      break;
    }
    bytes.push(...vocabulary.tokenBytes(token)!);
  }
  return { bytes, text: new TextDecoder().decode(Uint8Array.from(bytes)), tokens, ended, maskSizes };
}
