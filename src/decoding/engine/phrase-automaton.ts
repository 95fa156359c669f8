/**
 * PhraseAutomaton: a DFA over bytes that recognises "the text so far contains one of these phrases"
 * (the Aho-Corasick automaton, built by subset construction so that case folding and word boundaries
 * fit in). Lexical `exclude` runs one automaton for all its phrases in product with the constraint —
 * a token is masked when its bytes, continuing from the current state, would reach a match, so an
 * excluded phrase can never appear, also across token boundaries. Each `include` phrase has its own
 * automaton, to know which ones have appeared.
 *
 * Semantics (SPEC.md §3): plain phrases match case-sensitively as substrings. `ignore_case` folds
 * each character to its lower/upper-case forms (exact for ASCII; other scripts where the case pair is
 * a single code point). `whole_word` requires no word character right before a phrase that starts
 * with one, and none right after a phrase that ends with one; word characters are [A-Za-z0-9_] and
 * every non-ASCII byte (letters of other scripts). A pending trailing boundary is settled by the next
 * byte or by the end of the text (`endAccepting`).
 */
import { GatewayError } from '../../errors/gateway-error';
import type { LexicalPhrase } from '../constraint';

export interface NormalizedPhrase {
  phrase: string;
  ignoreCase: boolean;
  wholeWord: boolean;
}

export function normalizePhrase(phrase: LexicalPhrase): NormalizedPhrase {
  if (typeof phrase === 'string') return { phrase, ignoreCase: false, wholeWord: false };
  return { phrase: phrase.phrase, ignoreCase: phrase.ignore_case === true, wholeWord: phrase.whole_word === true };
}

const encoder = new TextEncoder();

export function isWordByte(byte: number): boolean {
  return (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a) || byte === 0x5f || byte >= 0x80;
}

function isWordCodePoint(codePoint: number): boolean {
  return codePoint >= 0x80 || isWordByte(codePoint);
}

export class PhraseAutomaton {
  /** next[state * 256 + byte] */
  readonly next: Int32Array;
  /** A phrase has been matched (absorbing). */
  readonly accepting: Uint8Array;
  /** Ending the text here completes a match (a pending whole-word phrase). */
  readonly endAccepting: Uint8Array;
  readonly stateCount: number;
  readonly start = 0;

  constructor(phrases: NormalizedPhrase[], maxStates: number) {
    // NFA: 0 = anywhere (loops), 1 = after a non-word byte or at the start, 2 = matched (absorbing).
    const edges: Array<Array<[number, number, number]>> = [[], [], []]; // [low, high, target]
    const pendingEnd = new Set<number>();
    const matchedImmediately = new Set<number>();
    const add = (): number => edges.push([]) - 1;
    edges[0].push([0, 255, 0]);
    for (let byte = 0; byte < 256; byte++) if (!isWordByte(byte)) edges[0].push([byte, byte, 1]);
    edges[2].push([0, 255, 2]);
    for (const entry of phrases) {
      const chars = Array.from(entry.phrase);
      if (chars.length === 0) throw new GatewayError('invalid_request', 'lexical phrases must not be empty', { param: '/lexical' });
      const first = chars[0].codePointAt(0)!;
      const last = chars[chars.length - 1].codePointAt(0)!;
      let current = entry.wholeWord && isWordCodePoint(first) ? 1 : 0;
      chars.forEach((char) => {
        const variants = new Set([char]);
        if (entry.ignoreCase) {
          for (const variant of [char.toLowerCase(), char.toUpperCase()]) if (Array.from(variant).length === 1) variants.add(variant);
        }
        const target = add();
        for (const variant of variants) {
          const bytes = encoder.encode(variant);
          let from = current;
          bytes.forEach((byte, index) => {
            const to = index === bytes.length - 1 ? target : add();
            edges[from].push([byte, byte, to]);
            from = to;
          });
        }
        current = target;
      });
      if (entry.wholeWord && isWordCodePoint(last)) {
        pendingEnd.add(current);
        for (let byte = 0; byte < 256; byte++) if (!isWordByte(byte)) edges[current].push([byte, byte, 2]);
      } else {
        // Reaching the end of the phrase is a match.
        matchedImmediately.add(current);
      }
    }

    const keys = new Map<string, number>();
    const sets: number[][] = [];
    const rows: Int32Array[] = [];
    const intern = (set: number[]): number => {
      // Once matched, nothing else matters: collapse to the absorbing state.
      const normalized = set.some((s) => s === 2 || matchedImmediately.has(s)) ? [2] : set;
      const key = normalized.join(',');
      let id = keys.get(key);
      if (id === undefined) {
        if (sets.length >= maxStates) {
          throw new GatewayError('constraint_invalid', `lexical phrases too complex: more than ${maxStates} automaton states`, {
            details: { limit: 'maxDfaStates' },
          });
        }
        id = sets.length;
        keys.set(key, id);
        sets.push(normalized);
      }
      return id;
    };
    intern([0, 1]);
    for (let id = 0; id < sets.length; id++) {
      const buckets: Array<Set<number>> = new Array(256);
      for (const state of sets[id]) {
        for (const [low, high, target] of edges[state]) {
          for (let byte = low; byte <= high; byte++) (buckets[byte] ??= new Set()).add(target);
        }
      }
      const row = new Int32Array(256);
      const memo = new Map<string, number>();
      for (let byte = 0; byte < 256; byte++) {
        const targets = [...(buckets[byte] ?? [])].sort((a, b) => a - b);
        const key = targets.join(',');
        let target = memo.get(key);
        if (target === undefined) {
          target = intern(targets);
          memo.set(key, target);
        }
        row[byte] = target;
      }
      rows[id] = row;
    }
    this.stateCount = sets.length;
    this.next = new Int32Array(this.stateCount * 256);
    this.accepting = new Uint8Array(this.stateCount);
    this.endAccepting = new Uint8Array(this.stateCount);
    for (let id = 0; id < this.stateCount; id++) {
      this.next.set(rows[id], id * 256);
      const matched = sets[id].includes(2);
      this.accepting[id] = matched ? 1 : 0;
      this.endAccepting[id] = matched || sets[id].some((s) => pendingEnd.has(s)) ? 1 : 0;
    }
  }

  step(state: number, byte: number): number {
    return this.next[state * 256 + byte];
  }

  /** Runs bytes from a state; returns the final state. */
  run(state: number, bytes: Uint8Array): number {
    let current = state;
    for (let i = 0; i < bytes.length; i++) current = this.next[current * 256 + bytes[i]];
    return current;
  }
}
