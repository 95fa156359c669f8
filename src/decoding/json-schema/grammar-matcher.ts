/**
 * A character-level reference matcher over the Grammar IR: does a whole text match a grammar?
 * It computes, for each (expression, position), the set of end positions (memoised per rule), so it
 * needs no backtracking and handles ambiguity; regex leaves run on a Thompson NFA (regex-nfa.ts), linear
 * in the text. It exists for tests, for enum filtering while compiling schemas, and for `rein schema check` —
 * never for token masks, which are the engine's job.
 *
 * Hazard: left recursion (a rule reaching itself without consuming text) is cut off and matches
 * nothing; JSON Schema grammars never need it (every recursion goes through `{` or `[`).
 */
import { GatewayError } from '../../errors/gateway-error';
import type { Grammar, GrammarExpr } from '../grammar-ir';
import { RegexNfa } from './regex-nfa';

export interface GrammarMatcherOptions {
  /** Called for a rule not in the map (lets a builder compile rules on demand). */
  resolveRule?: (name: string) => GrammarExpr | undefined;
  /** Upper bound on work (set operations) before giving up with an error. */
  maxSteps?: number;
}

export class GrammarMatcher {
  private readonly rules: ReadonlyMap<string, GrammarExpr>;
  private readonly options: GrammarMatcherOptions;
  private readonly regexCache = new Map<string, RegexNfa>();

  constructor(rules: ReadonlyMap<string, GrammarExpr>, options: GrammarMatcherOptions = {}) {
    this.rules = rules;
    this.options = options;
  }

  static forGrammar(grammar: Grammar, options: GrammarMatcherOptions = {}): { matches(text: string): boolean } {
    const matcher = new GrammarMatcher(grammar.rules, options);
    return { matches: (text: string) => matcher.matches({ type: 'ref', name: grammar.start }, text) };
  }

  /** True when `expr` matches the whole of `text`. */
  matches(expr: GrammarExpr, text: string): boolean {
    const run = new MatchRun(this, text, this.options.maxSteps ?? 5_000_000);
    return run.ends(expr, 0).has(text.length);
  }

  rule(name: string): GrammarExpr {
    const expr = this.rules.get(name) ?? this.options.resolveRule?.(name);
    if (!expr) throw new GatewayError('internal_error', `grammar rule '${name}' is not defined`);
    return expr;
  }

  regex(pattern: string): RegexNfa {
    let compiled = this.regexCache.get(pattern);
    if (!compiled) {
      compiled = RegexNfa.fromPattern(pattern);
      this.regexCache.set(pattern, compiled);
    }
    return compiled;
  }
}

class MatchRun {
  private readonly memo = new Map<string, Set<number>>();
  private readonly active = new Set<string>();
  private steps = 0;

  constructor(
    private readonly matcher: GrammarMatcher,
    private readonly text: string,
    private readonly maxSteps: number,
  ) {}

  private tick(): void {
    if (++this.steps > this.maxSteps) throw new GatewayError('constraint_unsupported', 'grammar match exceeded its step limit', { details: { keyword: 'limits', pointer: '' } });
  }

  ends(expr: GrammarExpr, position: number): Set<number> {
    this.tick();
    const text = this.text;
    switch (expr.type) {
      case 'literal':
        return text.startsWith(expr.text, position) ? new Set([position + expr.text.length]) : new Set();
      case 'char-class': {
        if (position >= text.length) return new Set();
        const code = text.codePointAt(position)!;
        const inside = expr.ranges.some(([low, high]) => code >= low && code <= high);
        return inside !== expr.negated ? new Set([position + (code > 0xffff ? 2 : 1)]) : new Set();
      }
      case 'regex': {
        const ends = this.matcher.regex(expr.pattern).ends(text, position);
        this.steps += ends.length + 1;
        return new Set(ends);
      }
      case 'seq': {
        let current = new Set([position]);
        for (const item of expr.items) {
          const next = new Set<number>();
          for (const start of current) for (const end of this.ends(item, start)) next.add(end);
          current = next;
          if (current.size === 0) break;
        }
        return current;
      }
      case 'alt': {
        const result = new Set<number>();
        for (const option of expr.options) for (const end of this.ends(option, position)) result.add(end);
        return result;
      }
      case 'repeat': {
        const result = new Set<number>();
        let frontier = new Set([position]);
        const seen = new Set<number>();
        if (expr.min === 0) result.add(position);
        for (let count = 1; expr.max === null || count <= expr.max; count++) {
          const next = new Set<number>();
          for (const start of frontier) for (const end of this.ends(expr.item, start)) next.add(end);
          if (next.size === 0) break;
          let fresh = false;
          for (const end of next) {
            if (count >= expr.min) result.add(end);
            if (!seen.has(end) || count <= expr.min) fresh = true;
          }
          if (!fresh && count >= expr.min) break;
          for (const end of next) seen.add(end);
          frontier = next;
        }
        return result;
      }
      case 'ref': {
        const key = `${expr.name}@${position}`;
        const cached = this.memo.get(key);
        if (cached) return cached;
        if (this.active.has(key)) return new Set();
        this.active.add(key);
        const result = this.ends(this.matcher.rule(expr.name), position);
        this.active.delete(key);
        this.memo.set(key, result);
        return result;
      }
    }
  }
}
