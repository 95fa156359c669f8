/**
 * ReferenceRecognizer: an independent, character-level recognizer over the Grammar IR, written for the
 * tests only — no bytes, no automata, no token trie. For each (expression, position) it computes the set
 * of positions where a match can end; recursion (left recursion included) is solved by iterating rule
 * results to a fixpoint. `isPrefix` answers "can this text be extended to a sentence of the grammar?"
 * by letting every terminal match at the end of the text. Regex leaves use JavaScript's RegExp and are
 * supported in full matches only. Slow (polynomial, with big constants) — fine for test-sized texts.
 */
import type { Grammar, GrammarExpr } from '../../../../src/decoding/grammar-ir';

type Positions = Set<number>;

export class ReferenceRecognizer {
  private chars: number[] = [];
  private prefixMode = false;
  private previous = new Map<string, Positions>();
  private computed = new Map<string, Positions>();
  private inProgress = new Set<string>();
  private changed = false;
  private readonly productive = new Map<string, boolean>();

  constructor(private readonly grammar: Grammar) {}

  matches(text: string): boolean {
    return this.run(text, false);
  }

  /** `text` is a prefix of some sentence (only whole characters are considered). */
  isPrefix(text: string): boolean {
    return this.run(text, true);
  }

  private run(text: string, prefixMode: boolean): boolean {
    this.chars = Array.from(text, (char) => char.codePointAt(0)!);
    this.prefixMode = prefixMode;
    this.previous = new Map();
    for (let iteration = 0; iteration < 1000; iteration++) {
      this.computed = new Map();
      this.inProgress = new Set();
      this.changed = false;
      const ends = this.ref(this.grammar.start, 0);
      if (!this.changed) return ends.has(this.chars.length);
      this.previous = this.computed;
    }
    throw new Error('reference recognizer did not converge');
  }

  private ref(name: string, position: number): Positions {
    const key = name + '@' + position;
    const done = this.computed.get(key);
    if (done) return done;
    if (this.inProgress.has(key)) return this.previous.get(key) ?? new Set();
    this.inProgress.add(key);
    const result = this.ends(this.grammar.rules.get(name)!, position);
    this.inProgress.delete(key);
    const before = this.previous.get(key);
    if (!before || before.size !== result.size) this.changed = true;
    this.computed.set(key, result);
    return result;
  }

  private atEnd(position: number): boolean {
    return this.prefixMode && position >= this.chars.length;
  }

  /** Can the expression match some text at all (needed for prefix mode past the end)? */
  private nonEmptyLanguage(expr: GrammarExpr, seen = new Set<string>()): boolean {
    switch (expr.type) {
      case 'literal':
        return true;
      case 'char-class':
        return expr.negated || expr.ranges.length > 0;
      case 'seq':
        return expr.items.every((item) => this.nonEmptyLanguage(item, seen));
      case 'alt':
        return expr.options.some((option) => this.nonEmptyLanguage(option, seen));
      case 'repeat':
        return expr.min === 0 || this.nonEmptyLanguage(expr.item, seen);
      case 'regex':
        return true;
      case 'ref': {
        const known = this.productive.get(expr.name);
        if (known !== undefined) return known;
        if (seen.has(expr.name)) return false;
        seen.add(expr.name);
        const value = this.nonEmptyLanguage(this.grammar.rules.get(expr.name)!, seen);
        seen.delete(expr.name);
        if (value || seen.size === 0) this.productive.set(expr.name, value);
        return value;
      }
    }
  }

  private ends(expr: GrammarExpr, position: number): Positions {
    const chars = this.chars;
    switch (expr.type) {
      case 'literal': {
        const text = Array.from(expr.text, (char) => char.codePointAt(0)!);
        for (let i = 0; i < text.length; i++) {
          if (position + i >= chars.length) return this.prefixMode ? new Set([chars.length]) : new Set();
          if (chars[position + i] !== text[i]) return new Set();
        }
        return new Set([position + text.length]);
      }
      case 'char-class': {
        if (position >= chars.length) return this.atEnd(position) && this.nonEmptyLanguage(expr) ? new Set([chars.length]) : new Set();
        const char = chars[position];
        const inside = expr.ranges.some(([low, high]) => char >= low && char <= high);
        return inside !== expr.negated ? new Set([position + 1]) : new Set();
      }
      case 'seq': {
        let current: Positions = new Set([position]);
        for (const item of expr.items) {
          const next: Positions = new Set();
          for (const start of current) for (const end of this.ends(item, start)) next.add(end);
          current = next;
          if (current.size === 0) break;
        }
        return current;
      }
      case 'alt': {
        const result: Positions = new Set();
        for (const option of expr.options) for (const end of this.ends(option, position)) result.add(end);
        return result;
      }
      case 'repeat': {
        let frontier: Positions = new Set([position]);
        const result: Positions = new Set();
        if (expr.min === 0) result.add(position);
        const visited = new Set<number>();
        for (let count = 1; expr.max === null || count <= expr.max; count++) {
          const next: Positions = new Set();
          for (const start of frontier) for (const end of this.ends(expr.item, start)) next.add(end);
          if (count >= expr.min) {
            // Past the minimum, only new positions matter (bounded or not).
            const fresh: Positions = new Set();
            for (const end of next) {
              result.add(end);
              if (!visited.has(end)) {
                visited.add(end);
                fresh.add(end);
              }
            }
            frontier = expr.max === null ? fresh : next;
            if (expr.max === null && fresh.size === 0) break;
          } else {
            frontier = next;
          }
          if (frontier.size === 0) break;
        }
        return result;
      }
      case 'regex': {
        if (this.prefixMode) throw new Error('regex leaves are not supported in prefix checks');
        const regex = new RegExp(`^(?:${expr.pattern})$`, 'u');
        const result: Positions = new Set();
        for (let end = position; end <= chars.length; end++) {
          if (regex.test(String.fromCodePoint(...chars.slice(position, end)))) result.add(end);
        }
        return result;
      }
      case 'ref':
        return this.ref(expr.name, position);
    }
  }
}
