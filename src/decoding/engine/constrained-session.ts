/**
 * ConstrainedSession: the per-sequence ConstraintSession — a grammar matcher (or "any text" when only
 * lexical phrases constrain) in product with the lexical automata.
 *
 * - mask(): grammar-allowed tokens, minus tokens that would complete an excluded phrase; EOS exactly
 *   when the grammar accepts, every include has appeared and no whole-word exclude is pending.
 * - forced(): jump-forward — when exactly one byte can follow, the bytes up to the next choice are
 *   tokenized canonically; the last token is held back (unless the text is then complete) because the
 *   model might rather continue it with a longer token. When the remaining budget is no more than the
 *   tokens the missing includes need, the first missing include is forced instead (if the grammar
 *   allows it here), and mask() allows only its next token.
 * - Failure is sticky: after a rejected advance, mask() is empty and advance() returns false.
 */
import type { ConstraintSession } from '../constraint';
import type { TokenMask } from '../token-mask';
import type { Vocabulary } from '../vocabulary';
import { canonicalTokens, type CompiledLexical } from './compiled-lexical';
import type { GrammarMatcher } from './grammar-matcher';
import { isWordByte } from './phrase-automaton';
import type { TokenTrie } from './token-trie';

export interface SessionParts {
  vocabulary: Vocabulary;
  trie: TokenTrie;
  /** Tokens with bytes (the "any text" mask). */
  textTokens: Uint32Array;
  matcher: GrammarMatcher | null;
  lexical: CompiledLexical | null;
  maxTokens?: number;
  maxForcedBytes: number;
}

const decoder = new TextDecoder('utf-8', { fatal: true });

/** Length of the longest prefix of `bytes` that ends on a UTF-8 character boundary. */
function completeUtf8Length(bytes: number[]): number {
  let end = bytes.length;
  // Walk back over at most 3 continuation bytes to the lead byte of the last character.
  let index = end - 1;
  let continuation = 0;
  while (index >= 0 && (bytes[index] & 0xc0) === 0x80 && continuation < 3) {
    index--;
    continuation++;
  }
  if (index < 0) return 0;
  const lead = bytes[index];
  const need = lead < 0x80 ? 1 : lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
  if (end - index < need) end = index;
  return end;
}

export class ConstrainedSession implements ConstraintSession {
  private failedValue = false;
  private done = false;
  private tokenCount = 0;
  private excludeState: number;
  private readonly includeStates: number[];
  private lastByte = -1;
  private readonly scratch = new Uint32Array(8);
  private forcedInclude: number[] | null = null;

  constructor(private readonly parts: SessionParts) {
    this.excludeState = parts.lexical?.exclude?.start ?? 0;
    this.includeStates = (parts.lexical?.includes ?? []).map((entry) => entry.automaton.start);
  }

  get failed(): boolean {
    return this.failedValue;
  }

  get accepting(): boolean {
    return !this.failedValue && this.eosAllowed();
  }

  get finished(): boolean {
    if (this.failedValue) return false;
    if (this.done) return true;
    if (!this.eosAllowed() || !this.parts.matcher) return false;
    this.parts.matcher.nextBytes(this.scratch);
    for (let w = 0; w < 8; w++) if (this.scratch[w] !== 0) return false;
    return true;
  }

  private includesDone(): boolean {
    const includes = this.parts.lexical?.includes ?? [];
    return includes.every((entry, index) => entry.automaton.accepting[this.includeStates[index]] === 1);
  }

  private eosAllowed(): boolean {
    if (this.done) return false;
    if (this.parts.matcher && !this.parts.matcher.accepting()) return false;
    const exclude = this.parts.lexical?.exclude;
    if (exclude && exclude.endAccepting[this.excludeState]) return false;
    const includes = this.parts.lexical?.includes ?? [];
    for (let i = 0; i < includes.length; i++) {
      if (!includes[i].automaton.endAccepting[this.includeStates[i]]) return false;
    }
    return true;
  }

  mask(into: TokenMask): void {
    into.clear();
    if (this.failedValue || this.done) return;
    try {
      this.maskInto(into);
    } catch (error) {
      // A limit hit while parsing (e.g. maxItemsPerSet) fails the session for good, then reports why.
      into.clear();
      this.failedValue = true;
      throw error;
    }
  }

  private maskInto(into: TokenMask): void {
    const forcedInclude = this.includeToForce();
    if (forcedInclude) {
      into.allow(forcedInclude[0]);
      return;
    }
    if (this.parts.matcher) this.parts.matcher.allowedTokens(into);
    else into.bits.set(this.parts.textTokens);
    const lexical = this.parts.lexical;
    if (lexical?.exclude) {
      const forbidden = lexical.forbidden(this.excludeState);
      const bits = into.bits;
      for (let w = 0; w < bits.length; w++) bits[w] &= ~forbidden[w];
    }
    if (this.eosAllowed()) for (const eos of this.parts.vocabulary.eosTokenIds) into.allow(eos);
  }

  advance(token: number): boolean {
    try {
      return this.advanceToken(token);
    } catch (error) {
      this.failedValue = true;
      throw error;
    }
  }

  private advanceToken(token: number): boolean {
    if (this.failedValue) return false;
    if (this.done) return this.fail();
    const { vocabulary, matcher, lexical } = this.parts;
    if (vocabulary.eosTokenIds.includes(token)) {
      if (!this.eosAllowed()) return this.fail();
      this.done = true;
      this.tokenCount++;
      return true;
    }
    const bytes = vocabulary.tokenBytes(token);
    if (!bytes || bytes.length === 0) return this.fail();
    if (lexical?.exclude) {
      const exclude = lexical.exclude;
      let state = this.excludeState;
      for (let i = 0; i < bytes.length; i++) {
        state = exclude.next[state * 256 + bytes[i]];
        if (exclude.accepting[state]) return this.fail();
      }
      if (matcher && !matcher.advanceBytes(bytes)) return this.fail();
      this.excludeState = state;
    } else if (matcher && !matcher.advanceBytes(bytes)) {
      return this.fail();
    }
    if (lexical) lexical.includes.forEach((entry, index) => (this.includeStates[index] = entry.automaton.run(this.includeStates[index], bytes)));
    this.lastByte = bytes[bytes.length - 1];
    this.tokenCount++;
    if (this.forcedInclude) {
      if (this.forcedInclude[0] === token) this.forcedInclude = this.forcedInclude.slice(1);
      else this.forcedInclude = null;
      if (this.forcedInclude && this.forcedInclude.length === 0) this.forcedInclude = null;
    }
    return true;
  }

  private fail(): false {
    this.failedValue = true;
    return false;
  }

  forced(): number[] {
    if (this.failedValue || this.done) return [];
    try {
      const include = this.includeToForce();
      if (include) return include.slice();
      return this.jumpForward();
    } catch (error) {
      this.failedValue = true;
      throw error;
    }
  }

  /** The rest of an include being forced, or a newly started one when the budget has run short. */
  private includeToForce(): number[] | null {
    if (this.forcedInclude) return this.forcedInclude;
    const lexical = this.parts.lexical;
    const maxTokens = this.parts.maxTokens;
    if (!lexical || lexical.includes.length === 0 || maxTokens === undefined) return null;
    let needed = 0;
    const missing: number[] = [];
    lexical.includes.forEach((entry, index) => {
      if (!entry.automaton.accepting[this.includeStates[index]] && !entry.automaton.endAccepting[this.includeStates[index]]) {
        missing.push(index);
        needed += entry.tokens?.length ?? 1;
      }
    });
    if (missing.length === 0 || maxTokens - this.tokenCount > needed) return null;
    for (const index of missing) {
      const entry = lexical.includes[index];
      let tokens = entry.tokens;
      if (!tokens) continue;
      // A whole-word phrase after a word character needs a separating space first.
      if (entry.phrase.wholeWord && this.lastByte >= 0 && isWordByte(this.lastByte)) {
        tokens = canonicalTokens(this.parts.vocabulary, ' ' + entry.phrase.phrase);
        if (!tokens) continue;
      }
      if (this.canFollow(tokens)) {
        this.forcedInclude = tokens;
        return tokens;
      }
    }
    return null;
  }

  /** Would these tokens be accepted from here (grammar and excludes)? Leaves the state unchanged. */
  private canFollow(tokens: number[]): boolean {
    const { vocabulary, matcher, lexical } = this.parts;
    const exclude = lexical?.exclude;
    let state = this.excludeState;
    const before = matcher?.chart.setCount ?? 0;
    let ok = true;
    outer: for (const token of tokens) {
      const bytes = vocabulary.tokenBytes(token);
      if (!bytes) {
        ok = false;
        break;
      }
      for (let i = 0; i < bytes.length; i++) {
        if (exclude) {
          state = exclude.next[state * 256 + bytes[i]];
          if (exclude.accepting[state]) {
            ok = false;
            break outer;
          }
        }
        if (matcher && !matcher.chart.push(bytes[i])) {
          ok = false;
          break outer;
        }
      }
    }
    matcher?.chart.truncate(before);
    return ok;
  }

  private jumpForward(): number[] {
    const { matcher, lexical, vocabulary, maxForcedBytes } = this.parts;
    if (!matcher) return [];
    const chart = matcher.chart;
    const before = chart.setCount;
    const exclude = lexical?.exclude;
    let excludeState = this.excludeState;
    const bytes: number[] = [];
    let complete = false;
    const scratch = this.scratch;
    while (bytes.length < maxForcedBytes) {
      if (chart.accepting()) {
        chart.scannable(scratch, 0);
        complete = scratch.every((word) => word === 0);
        break;
      }
      chart.scannable(scratch, 0);
      let only = -1;
      let count = 0;
      for (let w = 0; w < 8 && count < 2; w++) {
        let word = scratch[w];
        while (word !== 0 && count < 2) {
          only = (w << 5) + (31 - Math.clz32(word & -word));
          word &= word - 1;
          count++;
        }
      }
      if (count !== 1) break;
      if (exclude) {
        excludeState = exclude.next[excludeState * 256 + only];
        if (exclude.accepting[excludeState]) break;
      }
      if (!chart.push(only)) break;
      bytes.push(only);
    }
    chart.truncate(before);
    if (bytes.length === 0) return [];
    const usable = bytes.slice(0, completeUtf8Length(bytes));
    if (usable.length < bytes.length) complete = false;
    if (usable.length === 0) return [];
    let text: string;
    try {
      text = decoder.decode(Uint8Array.from(usable));
    } catch {
      return [];
    }
    const verified = canonicalTokens(vocabulary, text);
    if (!verified) return [];
    // The last token could merge with what the model writes next: hold it back unless the text ends here.
    const result = complete ? verified : verified.slice(0, -1);
    if (result.length > 0 && this.parts.lexical?.exclude && !this.canFollow(result)) return [];
    return result;
  }
}
