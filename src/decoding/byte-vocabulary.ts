/**
 * createByteVocabulary: a vocabulary of the 256 single bytes plus one EOS (id 256). Used where text
 * must be checked against a constraint independently of any tokenizer (`rein grammar check`, tests).
 */
import type { Vocabulary } from './vocabulary';

let shared: Vocabulary | null = null;

export function createByteVocabulary(): Vocabulary {
  if (shared) return shared;
  const singles = Array.from({ length: 256 }, (_, byte) => Uint8Array.of(byte));
  shared = {
    id: 'bytes:256+eos',
    size: 257,
    eosTokenIds: [256],
    tokenBytes: (id) => (id >= 0 && id < 256 ? singles[id] : null),
    encode: (text) => Array.from(new TextEncoder().encode(text)),
  };
  return shared;
}

/** Where a byte-by-byte match of `text` stopped: null = complete match; else the byte offset and line:column. */
export function locateMismatch(text: string, offset: number): { offset: number; line: number; column: number } {
  const bytes = new TextEncoder().encode(text).slice(0, offset);
  const prefix = new TextDecoder().decode(bytes);
  const lines = prefix.split('\n');
  return { offset, line: lines.length, column: Array.from(lines[lines.length - 1]).length + 1 };
}
