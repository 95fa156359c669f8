/**
 * RegexNfa: a Thompson NFA over code points for the regexes the schema compiler emits, run by
 * state-set simulation — linear in the text, no backtracking — so the reference matcher's cost is
 * bounded however a user's pattern or a large `maxLength` is written. Counted repetitions are expanded
 * into states; a regex that would need more than `maxStates` is refused with a limits error.
 */
import { GatewayError } from '../../errors/gateway-error';
import { parseSchemaRegex, type CodePointRanges, type RegexNode } from './schema-regex';

type State = { type: 'set'; ranges: CodePointRanges; next: number } | { type: 'split'; next: number[] } | { type: 'accept' };

export class RegexNfa {
  private readonly states: State[] = [];
  private readonly start: number;

  constructor(node: RegexNode, private readonly maxStates = 200_000) {
    const accept = this.add({ type: 'accept' });
    this.start = this.build(node, accept);
  }

  static fromPattern(pattern: string, maxStates?: number): RegexNfa {
    return new RegexNfa(parseSchemaRegex(pattern, { maxRepeat: 100_000 }), maxStates);
  }

  private add(state: State): number {
    if (this.states.length >= this.maxStates) {
      throw new GatewayError('constraint_unsupported', `regex needs more than ${this.maxStates} automaton states`, { details: { keyword: 'limits', pointer: '' } });
    }
    this.states.push(state);
    return this.states.length - 1;
  }

  /** Builds states for `node` that continue to `next`; returns the entry state. */
  private build(node: RegexNode, next: number): number {
    switch (node.type) {
      case 'set':
        return this.add({ type: 'set', ranges: node.ranges, next });
      case 'seq': {
        let entry = next;
        for (let index = node.items.length - 1; index >= 0; index--) entry = this.build(node.items[index], entry);
        return entry;
      }
      case 'alt':
        return this.add({ type: 'split', next: node.options.map((option) => this.build(option, next)) });
      case 'repeat': {
        let entry = next;
        if (node.max === null) {
          const loop = this.add({ type: 'split', next: [] });
          const body = this.build(node.item, loop);
          (this.states[loop] as { next: number[] }).next = [body, next];
          entry = loop;
        } else {
          for (let count = node.max; count > node.min; count--) {
            const body = this.build(node.item, entry);
            entry = this.add({ type: 'split', next: [body, next] });
            next = entry;
          }
        }
        for (let count = 0; count < node.min; count++) entry = this.build(node.item, entry);
        return entry;
      }
      case 'start':
      case 'end':
        throw new GatewayError('internal_error', 'anchor in an emitted regex');
    }
  }

  private closure(seeds: number[], into: Set<number>): void {
    const stack = [...seeds];
    while (stack.length > 0) {
      const index = stack.pop()!;
      if (into.has(index)) continue;
      into.add(index);
      const state = this.states[index];
      if (state.type === 'split') stack.push(...state.next);
    }
  }

  /** Every end offset (UTF-16 index into `text`) at which a match starting at `position` can end. */
  ends(text: string, position: number): number[] {
    const result: number[] = [];
    let current = new Set<number>();
    this.closure([this.start], current);
    let offset = position;
    for (;;) {
      let accepting = false;
      for (const index of current) if (this.states[index].type === 'accept') accepting = true;
      if (accepting) result.push(offset);
      if (offset >= text.length || current.size === 0) break;
      const code = text.codePointAt(offset)!;
      const seeds: number[] = [];
      for (const index of current) {
        const state = this.states[index];
        if (state.type === 'set' && state.ranges.some(([low, high]) => code >= low && code <= high)) seeds.push(state.next);
      }
      const next = new Set<number>();
      this.closure(seeds, next);
      current = next;
      offset += code > 0xffff ? 2 : 1;
      if (current.size === 0) break;
    }
    return result;
  }
}
