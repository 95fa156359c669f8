/**
 * compileRegexSearch: user-supplied regex rules for the `regex` filter, matched in bounded time.
 * The pattern is parsed by the constraint engine's parser (src/decoding/engine/regex-parser.ts: JS
 * syntax, no backreferences or lookaround — those are rejected, never approximated) into the Grammar
 * IR, compiled here into a Thompson NFA over code points, and searched with a Pike-style simulation:
 * all threads advance together, one per NFA state, the earliest start wins a state. There is no
 * backtracking, so no pattern can take exponential time.
 *
 * Semantics: leftmost-longest, non-overlapping, non-empty matches, each at most `maxMatchLength`
 * characters (threads older than that are dropped). Cost is O(text × states) per match found plus
 * O(maxMatchLength × states) of rescanning after each match: bounded, and linear for a fixed cap.
 * `^`/`$` at the start/end of the whole pattern anchor the search to the text's start/end.
 */
import { GatewayError } from '../../errors/gateway-error';
import { parseRegex } from '../../decoding/engine/regex-parser';
import type { GrammarExpr } from '../../decoding/grammar-ir';
import { withAsciiCaseVariants } from '../../decoding/engine/utf8-ranges';

export interface RegexSearchOptions {
  ignoreCase?: boolean;
  /** Longest match reported, in UTF-16 code units (default 256). */
  maxMatchLength?: number;
  /** NFA size bound (default 4,096 states: search cost is text length × live states). */
  maxStates?: number;
}

type State =
  | { type: 'char'; ranges: Array<[number, number]>; negated: boolean; next: number }
  | { type: 'split'; next: number[] }
  | { type: 'match' };

interface Fragment {
  start: number;
  /** States whose dangling `next` must be patched to the following fragment. */
  ends: number[];
}

export interface RegexSearch {
  readonly source: string;
  readonly maxMatchLength: number;
  /** Non-overlapping leftmost-longest matches as [start, end). */
  search(text: string): Array<[number, number]>;
}

const UNSET = -1;


class NfaBuilder {
  readonly states: State[] = [];

  constructor(private readonly ignoreCase: boolean, private readonly maxStates: number) {}

  private add(state: State): number {
    if (this.states.length >= this.maxStates) {
      throw new GatewayError('policy_invalid', `regex rule is too large (more than ${this.maxStates} automaton states)`);
    }
    this.states.push(state);
    return this.states.length - 1;
  }

  private char(ranges: Array<[number, number]>, negated: boolean): Fragment {
    const folded = this.ignoreCase ? withAsciiCaseVariants(ranges) : ranges;
    const index = this.add({ type: 'char', ranges: folded, negated, next: UNSET });
    return { start: index, ends: [index] };
  }

  private patch(ends: number[], target: number): void {
    for (const index of ends) {
      const state = this.states[index];
      if (state.type === 'char') state.next = target;
      else if (state.type === 'split') state.next = state.next.map((next) => (next === UNSET ? target : next));
    }
  }

  private empty(): Fragment {
    const index = this.add({ type: 'split', next: [UNSET] });
    return { start: index, ends: [index] };
  }

  private sequence(fragments: Fragment[]): Fragment {
    if (fragments.length === 0) return this.empty();
    for (let i = 0; i + 1 < fragments.length; i++) this.patch(fragments[i].ends, fragments[i + 1].start);
    return { start: fragments[0].start, ends: fragments[fragments.length - 1].ends };
  }

  /** item? — or item* when `loop`. */
  private optional(build: () => Fragment, loop: boolean): Fragment {
    const item = build();
    const split = this.add({ type: 'split', next: [item.start, UNSET] });
    if (loop) {
      this.patch(item.ends, split);
      return { start: split, ends: [split] };
    }
    return { start: split, ends: [split, ...item.ends] };
  }

  build(expression: GrammarExpr): Fragment {
    switch (expression.type) {
      case 'literal':
        return this.sequence(Array.from(expression.text, (char) => {
          const codePoint = char.codePointAt(0)!;
          return this.char([[codePoint, codePoint]], false);
        }));
      case 'char-class':
        return this.char(expression.ranges, expression.negated);
      case 'seq':
        return this.sequence(expression.items.map((item) => this.build(item)));
      case 'alt': {
        const options = expression.options.map((option) => this.build(option));
        const split = this.add({ type: 'split', next: options.map((option) => option.start) });
        return { start: split, ends: options.flatMap((option) => option.ends) };
      }
      case 'repeat': {
        const parts: Fragment[] = [];
        for (let i = 0; i < expression.min; i++) parts.push(this.build(expression.item));
        if (expression.max === null) parts.push(this.optional(() => this.build(expression.item), true));
        else for (let i = expression.min; i < expression.max; i++) parts.push(this.optional(() => this.build(expression.item), false));
        return this.sequence(parts);
      }
      default:
        throw new GatewayError('policy_invalid', `regex rule uses an unsupported construct (${expression.type})`);
    }
  }
}

function inRanges(codePoint: number, ranges: Array<[number, number]>): boolean {
  for (const [low, high] of ranges) if (codePoint >= low && codePoint <= high) return true;
  return false;
}

/**
 * The characters a match can start with, as a predicate, or undefined when that set is not useful
 * (negated classes or an empty match reachable from the start).
 */
function firstCharacterFilter(states: State[], startState: number): ((codePoint: number) => boolean) | undefined {
  const ranges: Array<[number, number]> = [];
  const seen = new Set<number>();
  const stack = [startState];
  while (stack.length > 0) {
    const index = stack.pop()!;
    if (seen.has(index)) continue;
    seen.add(index);
    const node = states[index];
    if (node.type === 'match') return undefined;
    if (node.type === 'split') stack.push(...node.next);
    else if (node.negated) return undefined;
    else ranges.push(...node.ranges);
  }
  const ascii = new Uint8Array(128);
  const wide: Array<[number, number]> = [];
  for (const [low, high] of ranges) {
    for (let code = low; code <= Math.min(high, 127); code++) ascii[code] = 1;
    if (high >= 128) wide.push([Math.max(low, 128), high]);
  }
  return (codePoint) => (codePoint < 128 ? ascii[codePoint] === 1 : inRanges(codePoint, wide));
}

/** Compiles a rule; throws GatewayError (policy_invalid, or the parser's constraint_* code) on a bad pattern. */
export function compileRegexSearch(pattern: string, options: RegexSearchOptions = {}): RegexSearch {
  const maxMatchLength = options.maxMatchLength ?? 256;
  const anchoredStart = pattern.startsWith('^');
  const anchoredEnd = /(?:^|[^\\])(?:\\\\)*\$$/.test(pattern);
  const expression = parseRegex(pattern, { limits: { maxNesting: 50, maxRepeat: 1000, maxSourceLength: 2000 } });
  const builder = new NfaBuilder(options.ignoreCase === true, options.maxStates ?? 4096);
  const fragment = builder.build(expression);
  const matchState = builder.states.length;
  builder.states.push({ type: 'match' });
  for (const index of fragment.ends) {
    const state = builder.states[index];
    if (state.type === 'char') state.next = matchState;
    else if (state.type === 'split') state.next = state.next.map((next) => (next === UNSET ? matchState : next));
  }
  const states = builder.states;
  const startState = fragment.start;
  const count = states.length;
  const canStart = firstCharacterFilter(states, startState);

  function search(text: string): Array<[number, number]> {
    const found: Array<[number, number]> = [];
    // Per step: list of states in priority order (earliest start first) and each state's start.
    let current: number[] = [];
    let next: number[] = [];
    const startOf = new Int32Array(count);
    const nextStartOf = new Int32Array(count);
    const mark = new Int32Array(count).fill(-1);
    let generation = 0;
    const stack: number[] = [];

    const addThread = (list: number[], starts: Int32Array, state: number, start: number) => {
      stack.push(state);
      while (stack.length > 0) {
        const index = stack.pop()!;
        if (mark[index] === generation) continue;
        mark[index] = generation;
        const node = states[index];
        if (node.type === 'split') {
          for (let k = node.next.length - 1; k >= 0; k--) stack.push(node.next[k]);
        } else {
          list.push(index);
          starts[index] = start;
        }
      }
    };

    let position = 0;
    while (position <= text.length) {
      let bestStart = -1;
      let bestEnd = -1;
      current = [];
      generation++;
      let index = position;
      for (;;) {
        // Prefilter: with no thread alive, skip ahead to a character that can start a match.
        if (canStart && bestStart < 0 && current.length === 0 && !anchoredStart) {
          while (index < text.length && !canStart(text.codePointAt(index)!)) index += text.codePointAt(index)! > 0xffff ? 2 : 1;
          if (index >= text.length) break;
        }
        if (bestStart < 0 && (!anchoredStart || index === 0)) addThread(current, startOf, startState, index);
        if (current.length === 0) break;
        for (const state of current) {
          if (states[state].type !== 'match') continue;
          const start = startOf[state];
          if (index > start && (!anchoredEnd || index === text.length) && (bestStart < 0 || start < bestStart || (start === bestStart && index > bestEnd))) {
            bestStart = start;
            bestEnd = index;
          }
        }
        if (index >= text.length) break;
        const codePoint = text.codePointAt(index)!;
        const width = codePoint > 0xffff ? 2 : 1;
        generation++;
        next = [];
        for (const state of current) {
          const node = states[state];
          if (node.type !== 'char') continue;
          const start = startOf[state];
          if (bestStart >= 0 && start > bestStart) continue;
          if (index + width - start > maxMatchLength) continue;
          if (inRanges(codePoint, node.ranges) !== node.negated) addThread(next, nextStartOf, node.next, start);
        }
        for (const state of next) startOf[state] = nextStartOf[state];
        current = next;
        index += width;
      }
      if (bestStart < 0) break;
      found.push([bestStart, bestEnd]);
      position = bestEnd;
      if (anchoredStart) break;
    }
    return found;
  }

  return { source: pattern, maxMatchLength, search };
}
