/**
 * parseRegex: JavaScript regular-expression syntax → the Grammar IR (seq/alt/repeat/literal/char-class),
 * which the automaton builder turns into a byte-level DFA. Whole-pattern match semantics.
 *
 * Supported: alternation, groups (capturing, `(?:…)`, named), greedy and lazy quantifiers (same
 * language), classes with ranges and negation, `.`, `\d \w \s` and their negations, `\x \u \u{} \c`
 * escapes, `^` at the start and `$` at the end of a top-level alternative. Backreferences, lookaround,
 * word boundaries, Unicode properties and anchors elsewhere are `constraint_unsupported` (fail closed:
 * never a wider language than the user asked for). Recursion depth and repeat counts are bounded.
 */
import { GatewayError } from '../../errors/gateway-error';
import type { ConstraintLimits } from '../constraint-limits';
import type { GrammarExpr } from '../grammar-ir';
import { normalizeRanges } from './utf8-ranges';

type Range = [number, number];

const DIGIT: Range[] = [[0x30, 0x39]];
const WORD: Range[] = [
  [0x30, 0x39],
  [0x41, 0x5a],
  [0x5f, 0x5f],
  [0x61, 0x7a],
];
const SPACE: Range[] = [
  [0x09, 0x0d],
  [0x20, 0x20],
  [0xa0, 0xa0],
  [0x1680, 0x1680],
  [0x2000, 0x200a],
  [0x2028, 0x2029],
  [0x202f, 0x202f],
  [0x205f, 0x205f],
  [0x3000, 0x3000],
  [0xfeff, 0xfeff],
];
/** `.` without the s flag: anything but line terminators. */
const DOT: Range[] = normalizeRanges(
  [
    [0x0a, 0x0a],
    [0x0d, 0x0d],
    [0x2028, 0x2029],
  ],
  true,
);

function complement(ranges: Range[]): Range[] {
  return normalizeRanges(ranges, true);
}

export interface RegexParseOptions {
  limits: Pick<ConstraintLimits, 'maxNesting' | 'maxRepeat' | 'maxSourceLength'>;
  /** Where the pattern sits, for error locations (e.g. a grammar line). Defaults to line 1, column 1. */
  line?: number;
  column?: number;
}

class RegexParser {
  private readonly chars: number[];
  private position = 0;
  private depth = 0;

  constructor(
    private readonly pattern: string,
    private readonly options: RegexParseOptions,
  ) {
    this.chars = Array.from(pattern, (char) => char.codePointAt(0)!);
  }

  private fail(code: 'constraint_invalid' | 'constraint_unsupported', message: string, at = this.position): never {
    const line = this.options.line ?? 1;
    const column = (this.options.column ?? 1) + at;
    throw new GatewayError(code, `regex: ${message} at column ${column}`, { details: { line, column, offset: at } });
  }

  private peek(offset = 0): number | undefined {
    return this.chars[this.position + offset];
  }

  private eat(char: string): boolean {
    if (this.chars[this.position] === char.codePointAt(0)) {
      this.position++;
      return true;
    }
    return false;
  }

  parse(): GrammarExpr {
    if (this.pattern.length > this.options.limits.maxSourceLength) {
      throw new GatewayError('constraint_invalid', `regex longer than ${this.options.limits.maxSourceLength} characters`, {
        details: { limit: 'maxSourceLength' },
      });
    }
    const expr = this.parseAlternation(true);
    if (this.position < this.chars.length) this.fail('constraint_invalid', `unmatched ')'`);
    return expr;
  }

  private parseAlternation(topLevel: boolean): GrammarExpr {
    const options: GrammarExpr[] = [this.parseSequence(topLevel)];
    while (this.eat('|')) options.push(this.parseSequence(topLevel));
    return options.length === 1 ? options[0] : { type: 'alt', options };
  }

  private parseSequence(topLevel: boolean): GrammarExpr {
    const items: GrammarExpr[] = [];
    if (this.peek() === 0x5e /* ^ */) {
      if (!topLevel) this.fail('constraint_unsupported', `'^' inside a group`);
      this.position++;
    }
    for (;;) {
      const char = this.peek();
      if (char === undefined || char === 0x7c /* | */ || char === 0x29 /* ) */) break;
      if (char === 0x24 /* $ */) {
        const next = this.peek(1);
        if (!topLevel || (next !== undefined && next !== 0x7c)) this.fail('constraint_unsupported', `'$' before the end of the pattern`);
        this.position++;
        break;
      }
      if (char === 0x5e) this.fail('constraint_unsupported', `'^' after the start of the pattern`);
      const atom = this.parseAtom();
      items.push(this.parseQuantifier(atom));
    }
    return items.length === 1 ? items[0] : { type: 'seq', items };
  }

  private parseQuantifier(atom: GrammarExpr): GrammarExpr {
    let result = atom;
    for (;;) {
      const start = this.position;
      let min: number;
      let max: number | null;
      const char = this.peek();
      if (char === 0x2a /* * */) {
        this.position++;
        min = 0;
        max = null;
      } else if (char === 0x2b /* + */) {
        this.position++;
        min = 1;
        max = null;
      } else if (char === 0x3f /* ? */) {
        this.position++;
        min = 0;
        max = 1;
      } else if (char === 0x7b /* { */) {
        const bounds = this.tryBraces();
        if (!bounds) return result;
        [min, max] = bounds;
      } else {
        return result;
      }
      this.eat('?'); // lazy: same language
      if (result !== atom) this.fail('constraint_invalid', 'nothing to repeat', start);
      if (max !== null && max < min) this.fail('constraint_invalid', 'numbers out of order in {} quantifier', start);
      if (min > this.options.limits.maxRepeat || (max !== null && max > this.options.limits.maxRepeat)) {
        throw new GatewayError('constraint_invalid', `regex: repetition count above ${this.options.limits.maxRepeat}`, {
          details: { line: this.options.line ?? 1, column: (this.options.column ?? 1) + start, limit: 'maxRepeat' },
        });
      }
      result = { type: 'repeat', item: atom, min, max };
    }
  }

  /** `{n}`, `{n,}`, `{n,m}`; anything else is a literal brace (Annex B). */
  private tryBraces(): [number, number | null] | null {
    const rest = String.fromCodePoint(...this.chars.slice(this.position, this.position + 32));
    const match = /^\{(\d+)(,(\d*))?\}/.exec(rest);
    if (!match) return null;
    this.position += match[0].length;
    const min = Number(match[1]);
    const max = match[2] === undefined ? min : match[3] === '' ? null : Number(match[3]);
    return [min, max];
  }

  private parseAtom(): GrammarExpr {
    const start = this.position;
    const char = this.chars[this.position++];
    switch (char) {
      case 0x28 /* ( */: {
        if (++this.depth > this.options.limits.maxNesting) {
          throw new GatewayError('constraint_invalid', `regex: groups nested deeper than ${this.options.limits.maxNesting}`, {
            details: { line: this.options.line ?? 1, column: (this.options.column ?? 1) + start, limit: 'maxNesting' },
          });
        }
        if (this.eat('?')) {
          if (this.eat(':')) {
            // non-capturing
          } else if (this.peek() === 0x3c /* < */ && this.peek(1) !== 0x3d && this.peek(1) !== 0x21) {
            this.position++;
            while (this.peek() !== undefined && this.peek() !== 0x3e) this.position++;
            if (!this.eat('>')) this.fail('constraint_invalid', 'unterminated group name');
          } else {
            this.fail('constraint_unsupported', 'lookaround assertions are not supported', start);
          }
        }
        const inner = this.parseAlternation(false);
        if (!this.eat(')')) this.fail('constraint_invalid', `missing ')'`, start);
        this.depth--;
        return inner;
      }
      case 0x5b /* [ */:
        return this.parseClass(start);
      case 0x2e /* . */:
        return { type: 'char-class', ranges: DOT, negated: false };
      case 0x5c /* \ */:
        return this.parseEscape(false, start);
      case 0x2a:
      case 0x2b:
      case 0x3f:
        return this.fail('constraint_invalid', 'nothing to repeat', start);
      case 0x7b: {
        // A brace that starts a valid quantifier here has nothing to repeat.
        this.position--;
        if (this.tryBraces()) this.fail('constraint_invalid', 'nothing to repeat', start);
        this.position++;
        return { type: 'literal', text: '{' };
      }
      default:
        return { type: 'literal', text: String.fromCodePoint(char) };
    }
  }

  /** An escape outside (inClass false) or inside a class; returns a literal or a class. */
  private parseEscape(inClass: boolean, start: number): GrammarExpr {
    const char = this.chars[this.position++];
    if (char === undefined) this.fail('constraint_invalid', '\\ at end of pattern', start);
    const letter = String.fromCodePoint(char);
    const literal = (codePoint: number): GrammarExpr => ({ type: 'literal', text: String.fromCodePoint(codePoint) });
    switch (letter) {
      case 'd':
        return { type: 'char-class', ranges: DIGIT, negated: false };
      case 'D':
        return { type: 'char-class', ranges: complement(DIGIT), negated: false };
      case 'w':
        return { type: 'char-class', ranges: WORD, negated: false };
      case 'W':
        return { type: 'char-class', ranges: complement(WORD), negated: false };
      case 's':
        return { type: 'char-class', ranges: SPACE, negated: false };
      case 'S':
        return { type: 'char-class', ranges: complement(SPACE), negated: false };
      case 'n':
        return literal(0x0a);
      case 'r':
        return literal(0x0d);
      case 't':
        return literal(0x09);
      case 'v':
        return literal(0x0b);
      case 'f':
        return literal(0x0c);
      case 'b':
        if (inClass) return literal(0x08);
        return this.fail('constraint_unsupported', 'word boundaries (\\b) are not supported', start);
      case 'B':
        return this.fail('constraint_unsupported', 'word boundaries (\\B) are not supported', start);
      case 'k':
        return this.fail('constraint_unsupported', 'backreferences are not supported', start);
      case 'p':
      case 'P':
        return this.fail('constraint_unsupported', 'Unicode property escapes are not supported', start);
      case '0':
        if (this.peek() !== undefined && this.peek()! >= 0x30 && this.peek()! <= 0x39) {
          return this.fail('constraint_unsupported', 'octal escapes are not supported', start);
        }
        return literal(0);
      case 'c': {
        const next = this.peek();
        if (next !== undefined && ((next >= 0x41 && next <= 0x5a) || (next >= 0x61 && next <= 0x7a))) {
          this.position++;
          return literal(next % 32);
        }
        return literal(0x5c);
      }
      case 'x': {
        const hex = this.readHex(2);
        return hex === null ? literal(0x78) : literal(hex);
      }
      case 'u': {
        if (this.peek() === 0x7b) {
          const rest = String.fromCodePoint(...this.chars.slice(this.position, this.position + 10));
          const match = /^\{([0-9a-fA-F]{1,6})\}/.exec(rest);
          if (!match || parseInt(match[1], 16) > 0x10ffff) this.fail('constraint_invalid', 'bad \\u{…} escape', start);
          this.position += match[0].length;
          return literal(parseInt(match[1], 16));
        }
        const high = this.readHex(4);
        if (high === null) return literal(0x75);
        if (high >= 0xd800 && high <= 0xdbff && this.peek() === 0x5c && this.peek(1) === 0x75) {
          const save = this.position;
          this.position += 2;
          const low = this.readHex(4);
          if (low !== null && low >= 0xdc00 && low <= 0xdfff) return literal(0x10000 + ((high - 0xd800) << 10) + (low - 0xdc00));
          this.position = save;
        }
        if (high >= 0xd800 && high <= 0xdfff) return this.fail('constraint_unsupported', 'lone surrogate escapes are not supported', start);
        return literal(high);
      }
      default:
        if (char >= 0x31 && char <= 0x39) {
          return this.fail('constraint_unsupported', 'backreferences are not supported', start);
        }
        return literal(char);
    }
  }

  private readHex(length: number): number | null {
    const digits = String.fromCodePoint(...this.chars.slice(this.position, this.position + length));
    if (digits.length !== length || !/^[0-9a-fA-F]+$/.test(digits)) return null;
    this.position += length;
    return parseInt(digits, 16);
  }

  private parseClass(start: number): GrammarExpr {
    const negated = this.eat('^');
    const ranges: Range[] = [];
    let first = true;
    for (;;) {
      const char = this.peek();
      if (char === undefined) this.fail('constraint_invalid', `missing ']'`, start);
      if (char === 0x5d /* ] */) {
        this.position++;
        break;
      }
      first = false;
      const low = this.parseClassAtom();
      if (this.peek() === 0x2d /* - */ && this.peek(1) !== undefined && this.peek(1) !== 0x5d) {
        const dash = this.position;
        this.position++;
        const high = this.parseClassAtom();
        if (low.length !== 1 || high.length !== 1 || low[0][0] !== low[0][1] || high[0][0] !== high[0][1]) {
          this.fail('constraint_invalid', 'a class shorthand cannot bound a range', dash);
        }
        if (high[0][0] < low[0][0]) this.fail('constraint_invalid', 'range out of order in character class', dash);
        ranges.push([low[0][0], high[0][0]]);
      } else {
        ranges.push(...low);
      }
    }
    void first;
    return { type: 'char-class', ranges: normalizeRanges(ranges, negated), negated: false };
  }

  private parseClassAtom(): Range[] {
    const start = this.position;
    const char = this.chars[this.position++];
    if (char !== 0x5c) return [[char, char]];
    const escaped = this.parseEscape(true, start);
    if (escaped.type === 'literal') {
      const codePoint = escaped.text.codePointAt(0)!;
      return [[codePoint, codePoint]];
    }
    if (escaped.type === 'char-class') return escaped.ranges.map(([a, b]) => [a, b] as Range);
    return this.fail('constraint_invalid', 'unexpected escape in class', start);
  }
}

/** Parses a JS-syntax regex into the Grammar IR (throws GatewayError with line/column). */
export function parseRegex(pattern: string, options: RegexParseOptions): GrammarExpr {
  return new RegexParser(pattern, options).parse();
}
