/**
 * Test doubles for the ConstraintSession interface (src/decoding/constraint.ts), so the decode loop's
 * constraint hooks can be tested before and apart from the real constraint engine:
 *  - digitsConstraint: only tokens whose bytes are all ASCII digits; EOS once `minDigits` tokens are in.
 *  - forcedPrefixConstraint: forces a fixed token sequence first (jump-forward), then behaves as digits.
 * They record every call so tests can check the loop used them as the interface says.
 */
import type { CompiledConstraint, ConstraintSession } from '../../../src/decoding/constraint';
import type { TokenMask } from '../../../src/decoding/token-mask';
import type { Vocabulary } from '../../../src/decoding/vocabulary';

export function isDigitToken(vocabulary: Vocabulary, token: number): boolean {
  const bytes = vocabulary.tokenBytes(token);
  if (!bytes || bytes.length === 0) return false;
  return bytes.every((byte) => byte >= 0x30 && byte <= 0x39);
}

export interface SessionLog {
  masks: number;
  advanced: number[];
  rejected: number[];
}

export function digitsConstraint(vocabulary: Vocabulary, minTokens: number, forcedPrefix: number[] = [], log?: SessionLog): CompiledConstraint {
  const digits: number[] = [];
  for (let token = 0; token < vocabulary.size; token++) if (isDigitToken(vocabulary, token)) digits.push(token);
  return {
    key: `test-digits-${minTokens}-${forcedPrefix.join('.')}`,
    start(): ConstraintSession {
      let prefixLeft = [...forcedPrefix];
      let count = 0;
      let failed = false;
      return {
        mask(into: TokenMask): void {
          if (log) log.masks++;
          if (failed) return;
          if (prefixLeft.length > 0) {
            into.allow(prefixLeft[0]);
            return;
          }
          for (const token of digits) into.allow(token);
          if (count >= minTokens) for (const eos of vocabulary.eosTokenIds) into.allow(eos);
        },
        advance(token: number): boolean {
          if (failed) return false;
          const ok = prefixLeft.length > 0 ? token === prefixLeft[0] : isDigitToken(vocabulary, token);
          if (!ok) {
            failed = true;
            log?.rejected.push(token);
            return false;
          }
          log?.advanced.push(token);
          if (prefixLeft.length > 0) prefixLeft = prefixLeft.slice(1);
          else count++;
          return true;
        },
        forced(): number[] {
          return failed ? [] : [...prefixLeft];
        },
        get accepting(): boolean {
          return !failed && prefixLeft.length === 0 && count >= minTokens;
        },
        get finished(): boolean {
          return false;
        },
        get failed(): boolean {
          return failed;
        },
      };
    },
  };
}
