/**
 * buildGrammarAutomaton: Grammar IR → one byte-level DFA per rule, joined by call edges — the lexer
 * half of the engine. Rules that are not recursive are inlined into their callers (so strings,
 * numbers, identifiers and whitespace become plain DFA paths, as lexemes are in llguidance); only
 * recursive rules stay separate and are handled by the Earley parser (earley-chart.ts) through call
 * edges. Character classes over code points become UTF-8 byte paths; regex leaves are parsed by our
 * own regex parser into the same IR.
 *
 * After determinization the automaton is trimmed: states that cannot reach acceptance are removed,
 * and calls to rules that derive nothing are dropped, so that every live Earley item can still be
 * completed — the property that makes "some item is alive" mean "this prefix is viable".
 * All sizes are bounded by ConstraintLimits (NFA states, DFA states, compile time).
 */
import { GatewayError } from '../../errors/gateway-error';
import type { ConstraintLimits } from '../constraint-limits';
import type { Grammar, GrammarExpr } from '../grammar-ir';
import { parseRegex } from './regex-parser';
import { normalizeRanges, utf8Sequences } from './utf8-ranges';

export interface GrammarAutomaton {
  readonly stateCount: number;
  /** next[state * 256 + byte] = target state, or -1. */
  readonly next: Int32Array;
  readonly accepting: Uint8Array;
  readonly ruleOf: Int32Array;
  /** Calls out of state s: callRule/callTarget[callStart[s] .. callStart[s + 1]). */
  readonly callStart: Int32Array;
  readonly callRule: Int32Array;
  readonly callTarget: Int32Array;
  /** 256-bit set of bytes with a transition, 8 words per state. */
  readonly byteMask: Uint32Array;
  /** 256-bit set of bytes that lead back to the same state, 8 words per state. */
  readonly selfLoop: Uint32Array;
  readonly ruleNames: readonly string[];
  readonly ruleStart: Int32Array;
  readonly ruleNullable: Uint8Array;
  readonly rootRule: number;
}

interface NfaEdge {
  low: number;
  high: number;
  target: number;
}

class Nfa {
  readonly epsilon: number[][] = [];
  readonly edges: NfaEdge[][] = [];
  readonly calls: Array<Array<[number, number]>> = [];

  constructor(private readonly maxStates: number) {}

  get size(): number {
    return this.epsilon.length;
  }

  add(): number {
    if (this.epsilon.length >= this.maxStates) {
      throw new GatewayError('constraint_invalid', `grammar too large: more than ${this.maxStates} automaton states`, {
        details: { limit: 'maxNfaStates' },
      });
    }
    this.epsilon.push([]);
    this.edges.push([]);
    this.calls.push([]);
    return this.epsilon.length - 1;
  }
}

const encoder = new TextEncoder();

function refsOf(expr: GrammarExpr, out: Set<string>): void {
  switch (expr.type) {
    case 'ref':
      out.add(expr.name);
      return;
    case 'seq':
      expr.items.forEach((item) => refsOf(item, out));
      return;
    case 'alt':
      expr.options.forEach((option) => refsOf(option, out));
      return;
    case 'repeat':
      refsOf(expr.item, out);
      return;
    default:
      return;
  }
}

/** Rules on a reference cycle (Tarjan's strongly connected components). */
function recursiveRules(grammar: Grammar): Set<string> {
  const names = [...grammar.rules.keys()];
  const edges = new Map<string, string[]>();
  for (const name of names) {
    const refs = new Set<string>();
    refsOf(grammar.rules.get(name)!, refs);
    edges.set(name, [...refs].filter((ref) => grammar.rules.has(ref)));
  }
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const recursive = new Set<string>();
  let counter = 0;
  // Iterative Tarjan: grammars may be deep.
  for (const root of names) {
    if (index.has(root)) continue;
    const work: Array<{ name: string; next: number }> = [{ name: root, next: 0 }];
    index.set(root, counter);
    low.set(root, counter++);
    stack.push(root);
    onStack.add(root);
    while (work.length > 0) {
      const frame = work[work.length - 1];
      const successors = edges.get(frame.name)!;
      if (frame.next < successors.length) {
        const successor = successors[frame.next++];
        if (!index.has(successor)) {
          index.set(successor, counter);
          low.set(successor, counter++);
          stack.push(successor);
          onStack.add(successor);
          work.push({ name: successor, next: 0 });
        } else if (onStack.has(successor)) {
          low.set(frame.name, Math.min(low.get(frame.name)!, index.get(successor)!));
        }
        continue;
      }
      work.pop();
      if (work.length > 0) {
        const parent = work[work.length - 1].name;
        low.set(parent, Math.min(low.get(parent)!, low.get(frame.name)!));
      }
      if (low.get(frame.name) === index.get(frame.name)) {
        const component: string[] = [];
        let member: string;
        do {
          member = stack.pop()!;
          onStack.delete(member);
          component.push(member);
        } while (member !== frame.name);
        const selfLoop = edges.get(frame.name)!.includes(frame.name);
        if (component.length > 1 || selfLoop) component.forEach((name) => recursive.add(name));
      }
    }
  }
  return recursive;
}

export interface BuildAutomatonOptions {
  limits: ConstraintLimits;
  /** Deadline (Date.now() value) for the whole compilation. */
  deadline: number;
  /** Inlined size above which a non-recursive rule stays a separate rule. */
  inlineLimit?: number;
}

function checkDeadline(deadline: number, limits: ConstraintLimits): void {
  if (Date.now() > deadline) {
    throw new GatewayError('constraint_invalid', `grammar compilation took longer than ${limits.maxCompileMs} ms`, {
      details: { limit: 'maxCompileMs' },
    });
  }
}

export function buildGrammarAutomaton(grammar: Grammar, options: BuildAutomatonOptions): GrammarAutomaton {
  const { limits, deadline } = options;
  const inlineLimit = options.inlineLimit ?? 4000;
  if (!grammar.rules.has(grammar.start)) {
    throw new GatewayError('constraint_invalid', `grammar has no start rule '${grammar.start}'`, { details: { line: 1, column: 1 } });
  }
  if (grammar.rules.size > limits.maxRules) {
    throw new GatewayError('constraint_invalid', `grammar has more than ${limits.maxRules} rules`, { details: { limit: 'maxRules' } });
  }
  for (const [name, expr] of grammar.rules) {
    const refs = new Set<string>();
    refsOf(expr, refs);
    for (const ref of refs) {
      if (!grammar.rules.has(ref)) throw new GatewayError('constraint_invalid', `rule '${name}' refers to undefined rule '${ref}'`, { details: { rule: name } });
    }
  }

  const regexCache = new Map<string, GrammarExpr>();
  const parseLeaf = (pattern: string): GrammarExpr => {
    let parsed = regexCache.get(pattern);
    if (!parsed) {
      parsed = parseRegex(pattern, { limits });
      regexCache.set(pattern, parsed);
    }
    return parsed;
  };

  // Decide which rules are inlined: not recursive, not the start, and not too large once expanded.
  const recursive = recursiveRules(grammar);
  const sizeMemo = new Map<string, number>();
  const inlined = new Set<string>();
  const sizeOf = (expr: GrammarExpr, depth: number): number => {
    if (depth > limits.maxNesting * 4) {
      throw new GatewayError('constraint_invalid', `grammar nested deeper than ${limits.maxNesting}`, { details: { limit: 'maxNesting' } });
    }
    switch (expr.type) {
      case 'literal':
        return encoder.encode(expr.text).length + 1;
      case 'char-class':
        return 2 + 3 * utf8SequenceCount(expr);
      case 'seq':
        return expr.items.reduce((sum, item) => sum + sizeOf(item, depth + 1), 1);
      case 'alt':
        return expr.options.reduce((sum, option) => sum + sizeOf(option, depth + 1), 2);
      case 'repeat': {
        const copies = Math.max(1, expr.max === null ? expr.min + 1 : expr.max);
        return Math.min(1e12, copies * sizeOf(expr.item, depth + 1) + 2);
      }
      case 'regex':
        return sizeOf(parseLeaf(expr.pattern), depth + 1);
      case 'ref':
        return ruleSize(expr.name, depth + 1);
    }
  };
  const ruleSize = (name: string, depth: number): number => {
    if (recursive.has(name) || name === grammar.start) return 2;
    let size = sizeMemo.get(name);
    if (size === undefined) {
      size = sizeOf(grammar.rules.get(name)!, depth);
      if (size <= inlineLimit) inlined.add(name);
      else size = 2;
      sizeMemo.set(name, size);
    }
    return size;
  };
  for (const name of grammar.rules.keys()) ruleSize(name, 0);

  // Rules that stay separate: the start, the recursive ones, the big ones — only those reachable.
  const ruleIndex = new Map<string, number>();
  const ruleNames: string[] = [];
  const pending: string[] = [grammar.start];
  const addRule = (name: string): number => {
    let index = ruleIndex.get(name);
    if (index === undefined) {
      index = ruleNames.length;
      ruleIndex.set(name, index);
      ruleNames.push(name);
      pending.push(name);
    }
    return index;
  };
  addRule(grammar.start);
  pending.length = 0;
  pending.push(grammar.start);

  const nfa = new Nfa(limits.maxNfaStates);
  const nfaStart: number[] = [];
  const nfaEnd: number[] = [];

  const build = (expr: GrammarExpr, from: number, depth: number): number => {
    if (depth > limits.maxNesting * 4) {
      throw new GatewayError('constraint_invalid', `grammar nested deeper than ${limits.maxNesting}`, { details: { limit: 'maxNesting' } });
    }
    switch (expr.type) {
      case 'literal': {
        let current = from;
        for (const byte of encoder.encode(expr.text)) {
          const target = nfa.add();
          nfa.edges[current].push({ low: byte, high: byte, target });
          current = target;
        }
        return current;
      }
      case 'char-class': {
        const end = nfa.add();
        for (const [low, high] of normalizeRanges(expr.ranges, expr.negated)) {
          for (const sequence of utf8Sequences(low, high)) {
            let current = from;
            sequence.forEach(([byteLow, byteHigh], position) => {
              const target = position === sequence.length - 1 ? end : nfa.add();
              nfa.edges[current].push({ low: byteLow, high: byteHigh, target });
              current = target;
            });
          }
        }
        return end;
      }
      case 'seq': {
        let current = from;
        for (const item of expr.items) current = build(item, current, depth + 1);
        return current;
      }
      case 'alt': {
        const end = nfa.add();
        for (const option of expr.options) {
          const start = nfa.add();
          nfa.epsilon[from].push(start);
          nfa.epsilon[build(option, start, depth + 1)].push(end);
        }
        return end;
      }
      case 'repeat': {
        let current = from;
        for (let i = 0; i < expr.min; i++) {
          const start = nfa.add();
          nfa.epsilon[current].push(start);
          current = build(expr.item, start, depth + 1);
        }
        if (expr.max === null) {
          const loop = nfa.add();
          nfa.epsilon[current].push(loop);
          const start = nfa.add();
          nfa.epsilon[loop].push(start);
          nfa.epsilon[build(expr.item, start, depth + 1)].push(loop);
          return loop;
        }
        const end = nfa.add();
        nfa.epsilon[current].push(end);
        for (let i = expr.min; i < expr.max; i++) {
          const start = nfa.add();
          nfa.epsilon[current].push(start);
          current = build(expr.item, start, depth + 1);
          nfa.epsilon[current].push(end);
        }
        return end;
      }
      case 'regex':
        return build(parseLeaf(expr.pattern), from, depth + 1);
      case 'ref': {
        if (inlined.has(expr.name)) return build(grammar.rules.get(expr.name)!, from, depth + 1);
        const index = addRule(expr.name);
        const target = nfa.add();
        nfa.calls[from].push([index, target]);
        return target;
      }
    }
  };

  while (pending.length > 0) {
    checkDeadline(deadline, limits);
    const name = pending.shift()!;
    const index = ruleIndex.get(name)!;
    const start = nfa.add();
    nfaStart[index] = start;
    nfaEnd[index] = build(grammar.rules.get(name)!, start, 0);
  }

  return determinize(nfa, nfaStart, nfaEnd, ruleNames, options);
}

function utf8SequenceCount(expr: Extract<GrammarExpr, { type: 'char-class' }>): number {
  let count = 0;
  for (const [low, high] of normalizeRanges(expr.ranges, expr.negated)) count += utf8Sequences(low, high).length;
  return count;
}

function determinize(nfa: Nfa, nfaStart: number[], nfaEnd: number[], ruleNames: string[], options: BuildAutomatonOptions): GrammarAutomaton {
  const { limits, deadline } = options;
  const ruleCount = ruleNames.length;
  const endRule = new Int32Array(nfa.size).fill(-1);
  nfaEnd.forEach((end, rule) => (endRule[end] = rule));

  const closure = (seeds: Iterable<number>): number[] => {
    const seen = new Set<number>();
    const stack = [...seeds];
    while (stack.length > 0) {
      const state = stack.pop()!;
      if (seen.has(state)) continue;
      seen.add(state);
      for (const next of nfa.epsilon[state]) if (!seen.has(next)) stack.push(next);
    }
    return [...seen].sort((a, b) => a - b);
  };

  const keyToState = new Map<string, number>();
  const sets: number[][] = [];
  const ownerRule: number[] = [];
  const nextRows: Int32Array[] = [];
  const calls: Array<Array<[number, number]>> = [];
  const acceptingList: number[] = [];
  const queue: number[] = [];

  const intern = (set: number[], rule: number): number => {
    const key = rule + ':' + set.join(',');
    let id = keyToState.get(key);
    if (id === undefined) {
      if (sets.length >= limits.maxDfaStates) {
        throw new GatewayError('constraint_invalid', `grammar too complex: more than ${limits.maxDfaStates} DFA states`, {
          details: { limit: 'maxDfaStates' },
        });
      }
      id = sets.length;
      keyToState.set(key, id);
      sets.push(set);
      ownerRule.push(rule);
      queue.push(id);
    }
    return id;
  };

  const ruleStartState = new Int32Array(ruleCount);
  for (let rule = 0; rule < ruleCount; rule++) ruleStartState[rule] = intern(closure([nfaStart[rule]]), rule);

  for (let head = 0; head < queue.length; head++) {
    const id = queue[head];
    if ((id & 63) === 0) checkDeadline(deadline, limits);
    const set = sets[id];
    const rule = ownerRule[id];
    const buckets: number[][] = new Array(256);
    const stateCalls = new Map<number, number[]>();
    let accepting = 0;
    for (const state of set) {
      if (endRule[state] === rule) accepting = 1;
      for (const edge of nfa.edges[state]) {
        for (let byte = edge.low; byte <= edge.high; byte++) (buckets[byte] ??= []).push(edge.target);
      }
      for (const [callee, target] of nfa.calls[state]) {
        const list = stateCalls.get(callee) ?? [];
        list.push(target);
        stateCalls.set(callee, list);
      }
    }
    const row = new Int32Array(256).fill(-1);
    const memo = new Map<string, number>();
    for (let byte = 0; byte < 256; byte++) {
      const targets = buckets[byte];
      if (!targets) continue;
      const rawKey = targets.join(',');
      let target = memo.get(rawKey);
      if (target === undefined) {
        target = intern(closure(targets), rule);
        memo.set(rawKey, target);
      }
      row[byte] = target;
    }
    nextRows[id] = row;
    acceptingList[id] = accepting;
    const callList: Array<[number, number]> = [];
    for (const [callee, targets] of stateCalls) callList.push([callee, intern(closure(targets), rule)]);
    calls[id] = callList;
  }

  const stateCount = sets.length;
  // Trim: productive rules and co-reachable states, to a fixpoint.
  const productive = new Uint8Array(ruleCount);
  let coreachable = new Uint8Array(stateCount);
  const reverse: number[][] = Array.from({ length: stateCount }, () => []);
  for (let state = 0; state < stateCount; state++) {
    const row = nextRows[state];
    const seen = new Set<number>();
    for (let byte = 0; byte < 256; byte++) {
      const target = row[byte];
      if (target >= 0 && !seen.has(target)) {
        seen.add(target);
        reverse[target].push(state);
      }
    }
  }
  for (;;) {
    coreachable = new Uint8Array(stateCount);
    const stack: number[] = [];
    for (let state = 0; state < stateCount; state++) {
      if (acceptingList[state]) {
        coreachable[state] = 1;
        stack.push(state);
      }
    }
    const callReverse: number[][] = Array.from({ length: stateCount }, () => []);
    for (let state = 0; state < stateCount; state++) {
      for (const [callee, target] of calls[state]) if (productive[callee]) callReverse[target].push(state);
    }
    while (stack.length > 0) {
      const state = stack.pop()!;
      for (const source of reverse[state]) if (!coreachable[source]) (coreachable[source] = 1), stack.push(source);
      for (const source of callReverse[state]) if (!coreachable[source]) (coreachable[source] = 1), stack.push(source);
    }
    let changed = false;
    for (let rule = 0; rule < ruleCount; rule++) {
      if (!productive[rule] && coreachable[ruleStartState[rule]]) {
        productive[rule] = 1;
        changed = true;
      }
    }
    if (!changed) break;
  }
  if (!productive[0]) {
    throw new GatewayError('constraint_invalid', `grammar matches no text at all (rule '${ruleNames[0]}' cannot complete)`, {
      details: { rule: ruleNames[0] },
    });
  }

  const next = new Int32Array(stateCount * 256).fill(-1);
  const byteMask = new Uint32Array(stateCount * 8);
  const selfLoop = new Uint32Array(stateCount * 8);
  const accepting = new Uint8Array(stateCount);
  const ruleOf = new Int32Array(stateCount);
  const callStart = new Int32Array(stateCount + 1);
  const callRuleList: number[] = [];
  const callTargetList: number[] = [];
  for (let state = 0; state < stateCount; state++) {
    accepting[state] = acceptingList[state];
    ruleOf[state] = ownerRule[state];
    callStart[state] = callRuleList.length;
    if (!coreachable[state]) continue;
    const row = nextRows[state];
    for (let byte = 0; byte < 256; byte++) {
      const target = row[byte];
      if (target >= 0 && coreachable[target]) {
        next[state * 256 + byte] = target;
        byteMask[state * 8 + (byte >>> 5)] |= 1 << (byte & 31);
        if (target === state) selfLoop[state * 8 + (byte >>> 5)] |= 1 << (byte & 31);
      }
    }
    for (const [callee, target] of calls[state]) {
      if (productive[callee] && coreachable[target]) {
        callRuleList.push(callee);
        callTargetList.push(target);
      }
    }
  }
  callStart[stateCount] = callRuleList.length;
  const callRule = Int32Array.from(callRuleList);
  const callTarget = Int32Array.from(callTargetList);

  // Nullable rules: the start state reaches acceptance through calls to nullable rules only.
  const ruleNullable = new Uint8Array(ruleCount);
  for (let changed = true; changed; ) {
    changed = false;
    for (let rule = 0; rule < ruleCount; rule++) {
      if (ruleNullable[rule]) continue;
      const seen = new Set<number>([ruleStartState[rule]]);
      const stack = [ruleStartState[rule]];
      let found = false;
      while (stack.length > 0 && !found) {
        const state = stack.pop()!;
        if (accepting[state]) found = true;
        for (let c = callStart[state]; c < callStart[state + 1]; c++) {
          if (ruleNullable[callRule[c]] && !seen.has(callTarget[c])) {
            seen.add(callTarget[c]);
            stack.push(callTarget[c]);
          }
        }
      }
      if (found) {
        ruleNullable[rule] = 1;
        changed = true;
      }
    }
  }

  return {
    stateCount,
    next,
    accepting,
    ruleOf,
    callStart,
    callRule,
    callTarget,
    byteMask,
    selfLoop,
    ruleNames,
    ruleStart: ruleStartState,
    ruleNullable,
    rootRule: 0,
  };
}
