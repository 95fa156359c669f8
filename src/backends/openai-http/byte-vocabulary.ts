/**
 * A vocabulary of single bytes (ids 0–255) plus one EOS id (256). Constraints compiled against it check
 * whole texts character by character with the same engine that masks tokens — the way Rein verifies
 * outputs of remote backends, whose tokenizers it does not know.
 */
import type { CompiledConstraint } from '../../decoding/constraint';
import type { Vocabulary } from '../../decoding/vocabulary';

export const BYTE_EOS = 256;
const BYTES: Uint8Array[] = Array.from({ length: 256 }, (_, index) => Uint8Array.of(index));
const encoder = new TextEncoder();

export const BYTE_VOCABULARY: Vocabulary = Object.freeze({
  id: 'rein:bytes-v1',
  size: 257,
  eosTokenIds: Object.freeze([BYTE_EOS]),
  tokenBytes: (id: number) => (id >= 0 && id < 256 ? BYTES[id] : null),
  encode: (text: string) => Array.from(encoder.encode(text)),
});

/** Incremental checker: feed text as it arrives; `failedAt` is the UTF-8 byte offset of the first bad byte. */
export class TextConstraintChecker {
  private readonly session;
  private offset = 0;
  failedAt: number | undefined;

  constructor(constraint: CompiledConstraint) {
    this.session = constraint.start();
  }

  /** false once the text so far is not a prefix of any accepted text. */
  push(text: string): boolean {
    if (this.failedAt !== undefined) return false;
    for (const byte of encoder.encode(text)) {
      if (!this.session.advance(byte)) {
        this.failedAt = this.offset;
        return false;
      }
      this.offset++;
    }
    return true;
  }

  /** The whole text is a complete match. */
  get complete(): boolean {
    return this.failedAt === undefined && this.session.accepting;
  }
}

export function matchesConstraint(constraint: CompiledConstraint, text: string): boolean {
  const checker = new TextConstraintChecker(constraint);
  return checker.push(text) && checker.complete;
}
