/**
 * CompiledLexical: lexical include/exclude phrases (SPEC.md §3) compiled against one vocabulary.
 * Exclude: one PhraseAutomaton; for each automaton state reached, the set of tokens whose bytes would
 * complete an excluded phrase is computed once by walking the token trie (cached, shared by sessions).
 * Include: one automaton per phrase, plus the phrase's canonical tokens for forcing it when the
 * token budget runs short.
 */
import { GatewayError } from '../../errors/gateway-error';
import type { ConstraintLimits } from '../constraint-limits';
import type { LexicalSpec } from '../constraint';
import type { Vocabulary } from '../vocabulary';
import { normalizePhrase, PhraseAutomaton, type NormalizedPhrase } from './phrase-automaton';
import { tokenTrieFor, type TokenTrie } from './token-trie';

export interface IncludeEntry {
  readonly phrase: NormalizedPhrase;
  readonly automaton: PhraseAutomaton;
  /** Canonical tokens of the phrase text (bytes verified), or null when the tokenizer cannot reproduce it. */
  readonly tokens: number[] | null;
}

const encoder = new TextEncoder();

/** Greedy longest-match tokenization through the token trie; null if some byte has no token. */
export function greedyTokens(vocabulary: Vocabulary, bytes: Uint8Array): number[] | null {
  const trie = tokenTrieFor(vocabulary);
  const { edgeStart, edgeByte, edgeChild, tokenStart, tokenIds } = trie;
  const ids: number[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    let node = 0;
    let bestToken = -1;
    let bestLength = 0;
    for (let i = offset; i < bytes.length; i++) {
      let next = -1;
      for (let e = edgeStart[node]; e < edgeStart[node + 1]; e++) {
        if (edgeByte[e] === bytes[i]) {
          next = edgeChild[e];
          break;
        }
      }
      if (next < 0) break;
      node = next;
      if (tokenStart[node] < tokenStart[node + 1]) {
        bestToken = tokenIds[tokenStart[node]];
        bestLength = i - offset + 1;
      }
    }
    if (bestToken < 0) return null;
    ids.push(bestToken);
    offset += bestLength;
  }
  return ids;
}

/**
 * Tokens whose concatenated bytes are exactly the text: the tokenizer's canonical encoding; when a
 * SentencePiece-style tokenizer adds its dummy-prefix space, the first token is re-split without it
 * (what a model generating mid-text would pick). Null when neither reproduces the text.
 */
export function canonicalTokens(vocabulary: Vocabulary, text: string): number[] | null {
  let ids: number[];
  try {
    ids = vocabulary.encode(text);
  } catch {
    return null;
  }
  const expected = encoder.encode(text);
  const produced: number[] = [];
  for (const id of ids) {
    const bytes = vocabulary.tokenBytes(id);
    if (!bytes) return null;
    for (let i = 0; i < bytes.length; i++) produced.push(bytes[i]);
  }
  const same = (shift: number): boolean => produced.length === expected.length + shift && expected.every((byte, i) => produced[i + shift] === byte);
  if (same(0)) return ids;
  if (ids.length > 0 && produced[0] === 0x20 && same(1)) {
    const first = vocabulary.tokenBytes(ids[0])!;
    const head = greedyTokens(vocabulary, first.subarray(1));
    if (head) return [...head, ...ids.slice(1)];
  }
  return null;
}

export class CompiledLexical {
  readonly exclude: PhraseAutomaton | null;
  readonly includes: readonly IncludeEntry[];
  private readonly forbiddenCache = new Map<number, Uint32Array>();

  constructor(
    spec: LexicalSpec,
    private readonly vocabulary: Vocabulary,
    private readonly trie: TokenTrie,
    limits: ConstraintLimits,
  ) {
    const include = (spec.include ?? []).map(normalizePhrase);
    const exclude = (spec.exclude ?? []).map(normalizePhrase);
    if (include.length + exclude.length > limits.maxLexicalPhrases) {
      throw new GatewayError('constraint_invalid', `more than ${limits.maxLexicalPhrases} lexical phrases`, {
        param: '/lexical',
        details: { limit: 'maxLexicalPhrases' },
      });
    }
    for (const entry of [...include, ...exclude]) {
      if (typeof entry.phrase !== 'string' || entry.phrase.length === 0) {
        throw new GatewayError('invalid_request', 'lexical phrases must be non-empty strings', { param: '/lexical' });
      }
      if (entry.phrase.length > limits.maxPhraseLength) {
        throw new GatewayError('constraint_invalid', `lexical phrase longer than ${limits.maxPhraseLength} characters`, {
          param: '/lexical',
          details: { limit: 'maxPhraseLength' },
        });
      }
    }
    this.exclude = exclude.length > 0 ? new PhraseAutomaton(exclude, limits.maxDfaStates) : null;
    this.includes = include.map((phrase) => ({
      phrase,
      automaton: new PhraseAutomaton([phrase], limits.maxDfaStates),
      tokens: canonicalTokens(vocabulary, phrase.phrase),
    }));
    if (this.exclude) {
      // An include that is itself excluded can never be satisfied.
      for (const entry of this.includes) {
        const state = this.exclude.run(this.exclude.start, encoder.encode(entry.phrase.phrase));
        if (this.exclude.accepting[state]) {
          throw new GatewayError('constraint_invalid', `lexical include '${entry.phrase.phrase}' contains an excluded phrase`, {
            param: '/lexical/include',
          });
        }
      }
    }
  }

  /** Tokens that must not follow when the exclude automaton is in `state` (bit set, TokenMask layout). */
  forbidden(state: number): Uint32Array {
    let bits = this.forbiddenCache.get(state);
    if (bits) return bits;
    const automaton = this.exclude!;
    const trie = this.trie;
    bits = new Uint32Array((this.vocabulary.size + 31) >>> 5);
    const result = bits;
    const { edgeStart, edgeByte, edgeChild, subtreeEnd, tokenStart, tokenIds } = trie;
    const next = automaton.next;
    const accepting = automaton.accepting;
    const walk = (node: number, current: number): void => {
      for (let e = edgeStart[node], end = edgeStart[node + 1]; e < end; e++) {
        const child = edgeChild[e];
        const target = next[current * 256 + edgeByte[e]];
        if (accepting[target]) {
          for (let t = tokenStart[child], stop = tokenStart[subtreeEnd[child]]; t < stop; t++) {
            const token = tokenIds[t];
            result[token >>> 5] |= 1 << (token & 31);
          }
        } else if (edgeStart[child] !== edgeStart[child + 1]) {
          walk(child, target);
        }
      }
    };
    walk(0, state);
    this.forbiddenCache.set(state, bits);
    return bits;
  }
}
