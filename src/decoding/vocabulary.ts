/**
 * Vocabulary: the token ids of one tokenizer as byte strings — what the constraint engine needs to know
 * about a model. Byte-fallback tokens (`<0x41>`) are single bytes; special tokens (BOS, EOS, chat markers)
 * have no bytes and are never allowed by a constraint except EOS, which the engine treats apart.
 */
export interface Vocabulary {
  /** Stable identity of the tokenizer (e.g. sha256 of tokenizer.json); part of compile-cache keys. */
  readonly id: string;
  /** Number of token ids (the logits' width may be larger; ids ≥ size are never allowed). */
  readonly size: number;
  /** Ids that end a generation. */
  readonly eosTokenIds: readonly number[];
  /** The UTF-8 bytes a token adds to the text, or null for special tokens. */
  tokenBytes(id: number): Uint8Array | null;
  /** Encodes text to ids without special tokens (used for forced phrases and jump-forward). */
  encode(text: string): number[];
}
