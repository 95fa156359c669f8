/**
 * CompiledGrammar and GrammarMatcher: a grammar automaton bound to one vocabulary (token trie + token
 * class cache, shared), and the per-sequence matcher holding the Earley chart.
 *
 * mask = ⋃ over kernel states of their precomputed accepted tokens, plus the uncertain subtrees of
 * those states walked with the real chart (the parser is consulted only where a lexeme — a rule — may
 * end inside a token). Every step of that walk first tests the byte against the set of bytes the
 * chart can scan, so rejected branches cost one bit test.
 */
import type { TokenMask } from '../token-mask';
import { EarleyChart } from './earley-chart';
import type { GrammarAutomaton } from './grammar-automaton';
import { TokenClassCache } from './token-class-cache';
import type { TokenTrie } from './token-trie';

export class CompiledGrammar {
  readonly classes: TokenClassCache;

  constructor(
    readonly automaton: GrammarAutomaton,
    readonly trie: TokenTrie,
    readonly maxItemsPerSet: number,
  ) {
    this.classes = new TokenClassCache(automaton, trie, maxItemsPerSet);
  }

  matcher(): GrammarMatcher {
    return new GrammarMatcher(this);
  }
}

export class GrammarMatcher {
  readonly chart: EarleyChart;
  private readonly scratch: Uint32Array;

  constructor(private readonly grammar: CompiledGrammar) {
    this.chart = new EarleyChart(grammar.automaton, grammar.maxItemsPerSet);
    this.scratch = new Uint32Array(8 * (grammar.trie.maxDepth + 2));
  }

  accepting(): boolean {
    return this.chart.accepting();
  }

  /** Consumes bytes; on failure the chart is left where it was and false is returned. */
  advanceBytes(bytes: Uint8Array): boolean {
    const before = this.chart.setCount;
    for (let i = 0; i < bytes.length; i++) {
      if (!this.chart.push(bytes[i])) {
        this.chart.truncate(before);
        return false;
      }
    }
    return true;
  }

  /** Would these bytes be accepted from here? Leaves the chart unchanged. */
  tryBytes(bytes: Uint8Array): boolean {
    const before = this.chart.setCount;
    let ok = true;
    for (let i = 0; i < bytes.length && ok; i++) ok = this.chart.push(bytes[i]);
    this.chart.truncate(before);
    return ok;
  }

  /** Bytes that may come next (8 words). */
  nextBytes(into: Uint32Array): void {
    this.chart.scannable(into, 0);
  }

  /** Writes the tokens the grammar allows next into `into` (OR-ed in; EOS is not handled here). */
  allowedTokens(into: TokenMask): void {
    this.chart.commit();
    const kernel = this.chart.kernelStates();
    const bits = into.bits;
    const classes = kernel.map((state) => this.grammar.classes.get(state));
    for (const tokenClass of classes) {
      const accepted = tokenClass.accepted;
      for (let w = 0; w < accepted.length; w++) bits[w] |= accepted[w];
    }
    const follow = this.follow;
    kernel.forEach((state, index) => {
      const tokenClass = classes[index];
      const roots = tokenClass.uncertainRoots;
      if (roots.length === 0) return;
      // Keep only roots whose bytes after a completion point can follow the rule here.
      follow.fill(0);
      this.chart.followBytes(state, follow);
      const rootFollow = tokenClass.rootFollow;
      let kept = 0;
      if (this.filtered.length < roots.length) this.filtered = new Int32Array(roots.length);
      const { tokenStart, tokenIds, subtreeEnd } = this.grammar.trie;
      for (let r = 0; r < roots.length; r++) {
        const base = r * 8;
        let passes = false;
        for (let w = 0; w < 8; w++) {
          if ((rootFollow[base + w] & follow[w]) !== 0) {
            passes = true;
            break;
          }
        }
        if (!passes) continue;
        // Skip subtrees whose tokens another kernel state already allowed.
        const root = roots[r];
        let open = false;
        for (let t = tokenStart[root], end = tokenStart[subtreeEnd[root]]; t < end; t++) {
          const token = tokenIds[t];
          if ((bits[token >>> 5] & (1 << (token & 31))) === 0) {
            open = true;
            break;
          }
        }
        if (open) this.filtered[kept++] = root;
      }
      if (kept > 0) this.walkUncertain(this.filtered.subarray(0, kept), bits);
    });
  }

  private readonly follow = new Uint32Array(8);
  private filtered = new Int32Array(64);

  private walkUncertain(roots: Int32Array, bits: Uint32Array): void {
    const trie = this.grammar.trie;
    const chart = this.chart;
    const scratch = this.scratch;
    const { edgeStart, edgeByte, edgeChild, subtreeEnd, tokenStart, tokenIds } = trie;

    const subtreeBytes = trie.subtreeBytes;
    const full = (node: number, level: number): void => {
      if (chart.loopsOn(subtreeBytes, node * 8)) {
        for (let t = tokenStart[node], end = tokenStart[subtreeEnd[node]]; t < end; t++) {
          const token = tokenIds[t];
          bits[token >>> 5] |= 1 << (token & 31);
        }
        return;
      }
      for (let t = tokenStart[node], end = tokenStart[node + 1]; t < end; t++) {
        const token = tokenIds[t];
        bits[token >>> 5] |= 1 << (token & 31);
      }
      if (edgeStart[node] === edgeStart[node + 1]) return;
      const offset = level * 8;
      chart.scannable(scratch, offset);
      for (let e = edgeStart[node], end = edgeStart[node + 1]; e < end; e++) {
        const byte = edgeByte[e];
        if ((scratch[offset + (byte >>> 5)] & (1 << (byte & 31))) === 0) continue;
        const child = edgeChild[e];
        // Nothing to learn below if every token there is already allowed (by another kernel state).
        let open = false;
        for (let t = tokenStart[child], stop = tokenStart[subtreeEnd[child]]; t < stop; t++) {
          const token = tokenIds[t];
          if ((bits[token >>> 5] & (1 << (token & 31))) === 0) {
            open = true;
            break;
          }
        }
        if (!open || !chart.push(byte)) continue;
        full(child, level + 1);
        chart.pop();
      }
    };

    // roots[lo..hi) lie strictly inside node's subtree.
    const partial = (node: number, lo: number, hi: number, level: number): void => {
      const offset = level * 8;
      chart.scannable(scratch, offset);
      let index = lo;
      for (let e = edgeStart[node], end = edgeStart[node + 1]; e < end && index < hi; e++) {
        const child = edgeChild[e];
        const childEnd = subtreeEnd[child];
        while (index < hi && roots[index] < child) index++;
        if (index >= hi || roots[index] >= childEnd) continue;
        let stop = index;
        while (stop < hi && roots[stop] < childEnd) stop++;
        const byte = edgeByte[e];
        if ((scratch[offset + (byte >>> 5)] & (1 << (byte & 31))) !== 0 && chart.push(byte)) {
          if (roots[index] === child) full(child, level + 1);
          else partial(child, index, stop, level + 1);
          chart.pop();
        }
        index = stop;
      }
    };
    partial(0, 0, roots.length, 0);
  }
}
