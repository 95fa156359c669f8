/**
 * byteVocabulary: 256 single-byte tokens plus EOS (id 256) — lets a test feed any text through a
 * session byte by byte, so golden cases test the language, not a tokenizer.
 */
import type { ConstraintSession } from '../../../../src/decoding/constraint';
import { TokenMask } from '../../../../src/decoding/token-mask';
import type { Vocabulary } from '../../../../src/decoding/vocabulary';

const singles = Array.from({ length: 256 }, (_, byte) => Uint8Array.of(byte));

export const BYTE_VOCABULARY: Vocabulary = {
  id: 'test:bytes',
  size: 257,
  eosTokenIds: [256],
  tokenBytes: (id) => (id >= 0 && id < 256 ? singles[id] : null),
  encode: (text) => Array.from(new TextEncoder().encode(text)),
};

/** Feeds the text byte by byte (each byte must be in the mask), then EOS; true if all accepted. */
export function sessionAccepts(session: ConstraintSession, text: string): boolean {
  const mask = new TokenMask(257);
  for (const byte of new TextEncoder().encode(text)) {
    session.mask(mask);
    const allowed = mask.has(byte);
    const advanced = session.advance(byte);
    if (allowed !== advanced) throw new Error(`mask (${allowed}) and advance (${advanced}) disagree on byte ${byte}`);
    if (!advanced) return false;
  }
  session.mask(mask);
  const eosAllowed = mask.has(256);
  if (eosAllowed !== session.accepting) throw new Error('mask EOS and accepting disagree');
  return session.advance(256);
}
