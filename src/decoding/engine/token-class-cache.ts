/**
 * TokenClassCache: for one grammar and one vocabulary, what each kernel DFA state allows on its own —
 * the adaptive token-mask cache of XGrammar, computed with llguidance's trie walk.
 *
 * For a kernel state s (an Earley item that has consumed input), a rule-local walk of the token trie
 * starts from the lone item (s, ⊥) — an origin with no callers — and sorts every token into:
 *  - accepted: the whole token is consumed while staying inside s's rule (or rules it calls). Such a
 *    token is allowed whatever the parse stack holds, so its bit is precomputed;
 *  - uncertain: the walk died, but somewhere on the way s's rule could have completed, so the rest of
 *    the token might continue in the caller. Only these are checked against the real chart at mask
 *    time; they are kept as a sorted list of trie subtrees (`uncertainRoots`);
 *  - rejected: everything else.
 * Computed lazily on first use of a state and kept for the compiled grammar's lifetime, so every
 * session of a cached grammar shares it.
 */
import type { EarleyChart as EarleyChartType } from './earley-chart';
import { EarleyChart } from './earley-chart';
import type { GrammarAutomaton } from './grammar-automaton';
import type { TokenTrie } from './token-trie';

export interface TokenClass {
  /** Bit set over the vocabulary (TokenMask layout). */
  readonly accepted: Uint32Array;
  /** Trie nodes (preorder, sorted) whose subtrees must be checked against the real chart. */
  readonly uncertainRoots: Int32Array;
  /**
   * Per uncertain root, 8 words: the bytes that came right after a point on its path where the rule
   * could complete. At mask time a root is walked only if one of them can follow the rule's completion
   * in the real context (exact pruning: no completion point, no way to continue).
   */
  readonly rootFollow: Uint32Array;
  /** Tokens in those subtrees, for statistics. */
  readonly uncertainTokens: number;
}

export class TokenClassCache {
  private readonly classes = new Map<number, TokenClass>();
  private readonly scratch: Uint32Array;

  constructor(
    private readonly automaton: GrammarAutomaton,
    private readonly trie: TokenTrie,
    private readonly maxItemsPerSet: number,
  ) {
    this.scratch = new Uint32Array(8 * (trie.maxDepth + 2));
  }

  get size(): number {
    return this.classes.size;
  }

  get(state: number): TokenClass {
    let tokenClass = this.classes.get(state);
    if (!tokenClass) {
      tokenClass = this.compute(state);
      this.classes.set(state, tokenClass);
    }
    return tokenClass;
  }

  private compute(state: number): TokenClass {
    const trie = this.trie;
    const chart = new EarleyChart(this.automaton, this.maxItemsPerSet, { localState: state });
    const accepted = new Uint32Array((trie.vocabularySize + 31) >>> 5);
    const uncertain: number[] = [];
    let uncertainTokens = 0;
    const scratch = this.scratch;
    const { edgeStart, edgeByte, edgeChild, tokenStart, tokenIds, subtreeEnd } = trie;

    const subtreeBytes = trie.subtreeBytes;
    const follow: number[] = [];
    // pathFollow[level * 8 ..]: bytes that followed a completion point on the path to the node at `level`.
    const pathFollow = new Uint32Array(8 * (trie.maxDepth + 2));
    const walk = (node: number, escaped: boolean, level: number, localChart: EarleyChartType): void => {
      if (localChart.loopsOn(subtreeBytes, node * 8)) {
        // Every token below stays on a self-loop: all accepted, no walk needed.
        for (let t = tokenStart[node], end = tokenStart[subtreeEnd[node]]; t < end; t++) {
          const token = tokenIds[t];
          accepted[token >>> 5] |= 1 << (token & 31);
        }
        return;
      }
      for (let t = tokenStart[node], end = tokenStart[node + 1]; t < end; t++) {
        const token = tokenIds[t];
        accepted[token >>> 5] |= 1 << (token & 31);
      }
      const canEscape = localChart.canEscape();
      const escapeHere = escaped || canEscape;
      const offset = level * 8;
      const childOffset = offset + 8;
      localChart.scannable(scratch, offset);
      for (let e = edgeStart[node], end = edgeStart[node + 1]; e < end; e++) {
        const byte = edgeByte[e];
        const child = edgeChild[e];
        if (escapeHere) {
          for (let w = 0; w < 8; w++) pathFollow[childOffset + w] = pathFollow[offset + w];
          if (canEscape) pathFollow[childOffset + (byte >>> 5)] |= 1 << (byte & 31);
        }
        if ((scratch[offset + (byte >>> 5)] & (1 << (byte & 31))) !== 0 && localChart.push(byte)) {
          walk(child, escapeHere, level + 1, localChart);
          localChart.pop();
        } else if (escapeHere) {
          uncertain.push(child);
          for (let w = 0; w < 8; w++) follow.push(pathFollow[childOffset + w]);
          uncertainTokens += tokenStart[subtreeEnd[child]] - tokenStart[child];
        }
      }
    };
    walk(0, false, 0, chart);
    // Roots are produced in preorder already (the walk is a preorder DFS).
    return { accepted, uncertainRoots: Int32Array.from(uncertain), rootFollow: Uint32Array.from(follow), uncertainTokens };
  }
}
