/**
 * EarleyChart: a byte-level Earley recognizer over the grammar automaton's rule DFAs (an Earley
 * parser for "regular right part" grammars). An item is (DFA state, origin set). Scanning a byte moves
 * every item along its DFA; prediction starts called rules; completion advances the callers waiting in
 * the origin set; nullable rules are handled by Aycock and Horspool's rule (advance over the call at
 * prediction time). Left recursion, ambiguity and deep nesting are all fine: items are deduplicated
 * per set, so work per byte is bounded by (states × origins), and a set larger than maxItemsPerSet
 * throws constraint_invalid instead of running away.
 *
 * The chart is a stack: push(byte) adds a set, pop() removes it. The token-trie walks use that to
 * try a byte and back out for free.
 */
import { GatewayError } from '../../errors/gateway-error';
import type { GrammarAutomaton } from './grammar-automaton';

const LINEAR_DEDUP_LIMIT = 24;

export class EarleyChart {
  /** Pairs (state, origin). */
  private items: Int32Array;
  private itemEnd = 0;
  /** setStart[k] = first item index of set k; setStart[setCount] = itemEnd. */
  private setStart: Int32Array;
  private setCountValue = 0;
  private readonly seen = new Set<number>();
  /** A sentinel empty set 0 makes origin 0 a dead end: used for rule-local walks. */
  private readonly local: boolean;

  constructor(
    private readonly automaton: GrammarAutomaton,
    private readonly maxItemsPerSet: number,
    options: { localState?: number } = {},
  ) {
    this.items = new Int32Array(1024);
    this.setStart = new Int32Array(256);
    this.local = options.localState !== undefined;
    if (options.localState !== undefined) {
      // set 0: empty sentinel; set 1: the lone item (state, origin 0) and its closure.
      this.setStart[0] = 0;
      this.setCountValue = 1;
      this.openSet();
      this.addItem(options.localState, 0);
      this.closeSet();
      this.commit();
    } else {
      this.openSet();
      this.addItem(automaton.ruleStart[automaton.rootRule], 0);
      this.closeSet();
    }
  }

  get setCount(): number {
    return this.setCountValue;
  }

  /** Number of bytes consumed. */
  get position(): number {
    return this.setCountValue - (this.local ? 2 : 1);
  }

  private building = 0;

  private growSets(): void {
    const grown = new Int32Array(this.setStart.length * 2);
    grown.set(this.setStart);
    this.setStart = grown;
  }

  private growItems(): void {
    const grown = new Int32Array(this.items.length * 2);
    grown.set(this.items);
    this.items = grown;
  }

  private seenUsed = false;

  private openSet(): void {
    if (this.setCountValue + 1 >= this.setStart.length) this.growSets();
    this.building = this.setCountValue;
    this.setStart[this.building] = this.itemEnd;
    if (this.seenUsed) {
      this.seen.clear();
      this.seenUsed = false;
    }
  }

  private addItem(state: number, origin: number): void {
    const begin = this.setStart[this.building];
    const count = (this.itemEnd - begin) >> 1;
    const items = this.items;
    if (count < LINEAR_DEDUP_LIMIT) {
      for (let i = begin; i < this.itemEnd; i += 2) if (items[i] === state && items[i + 1] === origin) return;
      if (count + 1 === LINEAR_DEDUP_LIMIT) {
        this.seenUsed = true;
        for (let i = begin; i < this.itemEnd; i += 2) this.seen.add(items[i + 1] * this.automaton.stateCount + items[i]);
        this.seen.add(origin * this.automaton.stateCount + state);
      }
    } else {
      const key = origin * this.automaton.stateCount + state;
      if (this.seen.has(key)) return;
      this.seen.add(key);
      if (count >= this.maxItemsPerSet) {
        throw new GatewayError('constraint_invalid', `grammar too ambiguous: more than ${this.maxItemsPerSet} parser items at one position`, {
          details: { limit: 'maxItemsPerSet' },
        });
      }
    }
    if (this.itemEnd + 2 > items.length) this.growItems();
    this.items[this.itemEnd++] = state;
    this.items[this.itemEnd++] = origin;
  }

  /** Prediction and completion over the set being built, to a fixpoint. Returns false if it is empty. */
  private closeSet(): boolean {
    const automaton = this.automaton;
    const current = this.building;
    const begin = this.setStart[current];
    for (let i = begin; i < this.itemEnd; i += 2) {
      const state = this.items[i];
      const origin = this.items[i + 1];
      for (let c = automaton.callStart[state], end = automaton.callStart[state + 1]; c < end; c++) {
        const rule = automaton.callRule[c];
        this.addItem(automaton.ruleStart[rule], current);
        if (automaton.ruleNullable[rule]) this.addItem(automaton.callTarget[c], origin);
      }
      if (automaton.accepting[state]) {
        const rule = automaton.ruleOf[state];
        const from = this.setStart[origin];
        const to = origin === current ? this.itemEnd : this.setStart[origin + 1];
        for (let j = from; j < to; j += 2) {
          const caller = this.items[j];
          for (let c = automaton.callStart[caller], end = automaton.callStart[caller + 1]; c < end; c++) {
            if (automaton.callRule[c] === rule) this.addItem(automaton.callTarget[c], this.items[j + 1]);
          }
        }
      }
    }
    this.setCountValue = current + 1;
    this.setStart[this.setCountValue] = this.itemEnd;
    return this.itemEnd > begin;
  }

  /**
   * Closure memo: the closure of a scanned kernel depends only on the kernel items and on the sets
   * their origins point to. Kernels whose origins all lie in the committed part of the chart (sets that
   * no speculative push can change) are memoised; items the closure predicts at the new position are
   * stored with origin -1 and relocated on reuse. Cleared whenever the committed part changes.
   */
  private readonly closureMemo = new Map<number, Array<{ kernel: Int32Array; closure: Int32Array }>>();
  private memoEntries = 0;
  private committed = 0;

  /** Marks the chart as it is now as committed (speculative pushes above it may be memoised). */
  commit(): void {
    if (this.committed !== this.setCountValue) {
      this.committed = this.setCountValue;
      this.closureMemo.clear();
      this.memoEntries = 0;
    }
  }

  /** Consumes one byte; false (and no change) if no item can take it. */
  push(byte: number): boolean {
    const automaton = this.automaton;
    const last = this.setCountValue - 1;
    const from = this.setStart[last];
    const to = this.itemEnd;
    if (to - from === 2) {
      // Fast path: one item inside a lexeme (no calls, cannot complete) — a plain DFA step.
      const target = automaton.next[this.items[from] * 256 + byte];
      if (target < 0) return false;
      if (automaton.accepting[target] === 0 && automaton.callStart[target] === automaton.callStart[target + 1]) {
        if (this.setCountValue + 1 >= this.setStart.length) this.growSets();
        if (to + 2 > this.items.length) this.growItems();
        this.items[to] = target;
        this.items[to + 1] = this.items[from + 1];
        this.itemEnd = to + 2;
        this.setCountValue++;
        this.setStart[this.setCountValue] = this.itemEnd;
        return true;
      }
    }
    this.openSet();
    const next = automaton.next;
    for (let i = from; i < to; i += 2) {
      const target = next[this.items[i] * 256 + byte];
      if (target >= 0) this.addItem(target, this.items[i + 1]);
    }
    const begin = this.setStart[this.building];
    if (this.itemEnd === begin) {
      this.setCountValue = this.building;
      return false;
    }
    if (this.committed > 0) {
      // Hash the scanned kernel; memoise only kernels whose origins are all committed.
      let hash = 0x811c9dc5;
      let memoisable = true;
      for (let i = begin; i < this.itemEnd; i += 2) {
        if (this.items[i + 1] >= this.committed) {
          memoisable = false;
          break;
        }
        hash = Math.imul(hash ^ this.items[i], 0x01000193);
        hash = Math.imul(hash ^ this.items[i + 1], 0x01000193);
      }
      if (memoisable) {
        const length = this.itemEnd - begin;
        const position = this.building;
        const bucket = this.closureMemo.get(hash);
        if (bucket) {
          for (const entry of bucket) {
            const kernel = entry.kernel;
            if (kernel.length !== length) continue;
            let same = true;
            for (let i = 0; i < length; i++) {
              if (kernel[i] !== this.items[begin + i]) {
                same = false;
                break;
              }
            }
            if (!same) continue;
            const cached = entry.closure;
            while (begin + cached.length > this.items.length) this.growItems();
            const items = this.items;
            for (let i = 0; i < cached.length; i += 2) {
              items[begin + i] = cached[i];
              items[begin + i + 1] = cached[i + 1] < 0 ? position : cached[i + 1];
            }
            this.itemEnd = begin + cached.length;
            this.setCountValue = position + 1;
            this.setStart[this.setCountValue] = this.itemEnd;
            return true;
          }
        }
        const kernel = this.items.slice(begin, this.itemEnd);
        this.closeSet();
        if (this.memoEntries < 50_000) {
          const closure = this.items.slice(begin, this.itemEnd);
          for (let i = 1; i < closure.length; i += 2) if (closure[i] === position) closure[i] = -1;
          const entry = { kernel, closure };
          if (bucket) bucket.push(entry);
          else this.closureMemo.set(hash, [entry]);
          this.memoEntries++;
        }
        return true;
      }
    }
    this.closeSet();
    return true;
  }

  /** Removes the last set (never the initial one). */
  pop(): void {
    const floor = this.local ? 2 : 1;
    if (this.setCountValue <= floor) return;
    this.setCountValue--;
    this.itemEnd = this.setStart[this.setCountValue];
  }

  /** Pops back to a given set count. */
  truncate(setCount: number): void {
    while (this.setCountValue > setCount) this.pop();
  }

  /** The start rule is complete over everything consumed. */
  accepting(): boolean {
    if (this.local) return false;
    const automaton = this.automaton;
    const last = this.setCountValue - 1;
    for (let i = this.setStart[last]; i < this.itemEnd; i += 2) {
      const state = this.items[i];
      if (this.items[i + 1] === 0 && automaton.accepting[state] && automaton.ruleOf[state] === automaton.rootRule) return true;
    }
    return false;
  }

  /** Local walks: the lone root item's rule can complete here (the text may go on in the caller). */
  canEscape(): boolean {
    const automaton = this.automaton;
    const last = this.setCountValue - 1;
    for (let i = this.setStart[last]; i < this.itemEnd; i += 2) {
      if (this.items[i + 1] === 0 && automaton.accepting[this.items[i]]) return true;
    }
    return false;
  }

  /** Bytes some item of the last set can scan: 8 words written into `into` at `offset`. */
  scannable(into: Uint32Array, offset = 0): void {
    const mask = this.automaton.byteMask;
    const last = this.setCountValue - 1;
    if (this.itemEnd - this.setStart[last] === 2) {
      const base = this.items[this.setStart[last]] * 8;
      for (let w = 0; w < 8; w++) into[offset + w] = mask[base + w];
      return;
    }
    into.fill(0, offset, offset + 8);
    for (let i = this.setStart[last]; i < this.itemEnd; i += 2) {
      const base = this.items[i] * 8;
      for (let w = 0; w < 8; w++) into[offset + w] |= mask[base + w];
    }
  }

  /**
   * Some item of the last set loops on every byte in `bytes` (8 words at `offset`): any text made of
   * those bytes is accepted from here, so a trie subtree using only them needs no walk.
   */
  loopsOn(bytes: Uint32Array, offset: number): boolean {
    const loop = this.automaton.selfLoop;
    const last = this.setCountValue - 1;
    for (let i = this.setStart[last], checked = 0; i < this.itemEnd && checked < 4; i += 2, checked++) {
      const base = this.items[i] * 8;
      let covered = true;
      for (let w = 0; w < 8; w++) {
        if ((bytes[offset + w] & ~loop[base + w]) !== 0) {
          covered = false;
          break;
        }
      }
      if (covered) return true;
    }
    return false;
  }

  /**
   * Bytes that can come right after the rule of `state` completes, for the items of the last set in
   * that state (origin before the last set): the callers waiting in each origin set are advanced over
   * the rule in a scratch set, closed, and its scannable bytes OR-ed into `into` (8 words). The
   * chart is left unchanged.
   */
  followBytes(state: number, into: Uint32Array): void {
    const automaton = this.automaton;
    const last = this.setCountValue - 1;
    const rule = automaton.ruleOf[state];
    const origins: number[] = [];
    for (let i = this.setStart[last]; i < this.itemEnd; i += 2) {
      if (this.items[i] === state && this.items[i + 1] < last && !origins.includes(this.items[i + 1])) origins.push(this.items[i + 1]);
    }
    if (origins.length === 0) return;
    const savedEnd = this.itemEnd;
    const savedCount = this.setCountValue;
    this.openSet();
    for (const origin of origins) {
      const from = this.setStart[origin];
      const to = this.setStart[origin + 1];
      for (let j = from; j < to; j += 2) {
        const caller = this.items[j];
        for (let c = automaton.callStart[caller], end = automaton.callStart[caller + 1]; c < end; c++) {
          if (automaton.callRule[c] === rule) this.addItem(automaton.callTarget[c], this.items[j + 1]);
        }
      }
    }
    if (this.itemEnd > this.setStart[this.building]) {
      this.closeSet();
      const mask = automaton.byteMask;
      for (let i = this.setStart[this.building]; i < this.itemEnd; i += 2) {
        const base = this.items[i] * 8;
        for (let w = 0; w < 8; w++) into[w] |= mask[base + w];
      }
    }
    this.itemEnd = savedEnd;
    this.setCountValue = savedCount;
    this.setStart[this.setCountValue] = this.itemEnd;
  }

  /**
   * Kernel states of the last set: items that consumed input (origin before this set), which
   * together with their closures account for every item in it. At the very start, the root item.
   */
  kernelStates(): number[] {
    const last = this.setCountValue - 1;
    const states: number[] = [];
    for (let i = this.setStart[last]; i < this.itemEnd; i += 2) {
      const origin = this.items[i + 1];
      if (origin < last || (last === 0 && i === this.setStart[0])) {
        const state = this.items[i];
        if (!states.includes(state)) states.push(state);
      }
    }
    return states;
  }
}
