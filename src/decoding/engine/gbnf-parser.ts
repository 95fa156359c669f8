/**
 * parseGbnf: llama.cpp's GBNF grammar language → the Grammar IR. Follows llama.cpp's grammar-parser:
 * `name ::= alternatives` rules ending at a newline (newlines are allowed after `::=`, after `|` and
 * inside parentheses), literals "…", classes […] / [^…], `.`, groups, `* + ?` and `{m}`, `{m,}`,
 * `{m,n}`, `{,n}`, `#` comments, escapes \x \u \U \t \r \n \\ \" \[ \]. The start rule is `root`.
 * Rule names may also contain `_`. Token references (`<…>`, `!`) are constraint_unsupported.
 * Every error is GatewayError('constraint_invalid', …) with `details: {line, column}`.
 */
import { GatewayError } from '../../errors/gateway-error';
import type { ConstraintLimits } from '../constraint-limits';
import type { Grammar, GrammarExpr } from '../grammar-ir';

export interface GbnfParseOptions {
  limits: Pick<ConstraintLimits, 'maxSourceLength' | 'maxRules' | 'maxNesting' | 'maxRepeat'>;
  /** The start rule; llama.cpp's is `root`. */
  start?: string;
}

function isWordChar(code: number): boolean {
  return (code >= 0x61 && code <= 0x7a) || (code >= 0x41 && code <= 0x5a) || (code >= 0x30 && code <= 0x39) || code === 0x2d || code === 0x5f;
}

class GbnfParser {
  private position = 0;
  private depth = 0;
  private readonly rules = new Map<string, GrammarExpr>();
  private readonly references: Array<{ name: string; at: number }> = [];

  constructor(
    private readonly source: string,
    private readonly options: GbnfParseOptions,
  ) {}

  private location(at: number): { line: number; column: number } {
    let line = 1;
    let lineStart = 0;
    for (let i = 0; i < at && i < this.source.length; i++) {
      if (this.source.charCodeAt(i) === 0x0a) {
        line++;
        lineStart = i + 1;
      }
    }
    return { line, column: at - lineStart + 1 };
  }

  fail(message: string, at = this.position, code: 'constraint_invalid' | 'constraint_unsupported' = 'constraint_invalid', extra: Record<string, unknown> = {}): never {
    const { line, column } = this.location(at);
    throw new GatewayError(code, `grammar: ${message} at ${line}:${column}`, { details: { line, column, ...extra } });
  }

  private code(offset = 0): number {
    const position = this.position + offset;
    return position < this.source.length ? this.source.charCodeAt(position) : -1;
  }

  /** Skips blanks and comments; newlines only when `newlineOk`. */
  private skipSpace(newlineOk: boolean): void {
    for (;;) {
      const char = this.code();
      if (char === 0x20 || char === 0x09) this.position++;
      else if (char === 0x23 /* # */) {
        while (this.position < this.source.length && this.code() !== 0x0a && this.code() !== 0x0d) this.position++;
      } else if (newlineOk && (char === 0x0a || char === 0x0d)) this.position++;
      else return;
    }
  }

  private parseName(): string {
    const start = this.position;
    while (isWordChar(this.code())) this.position++;
    if (start === this.position) this.fail('expecting a rule name');
    return this.source.slice(start, this.position);
  }

  parse(): Grammar {
    if (this.source.length > this.options.limits.maxSourceLength) {
      throw new GatewayError('constraint_invalid', `grammar longer than ${this.options.limits.maxSourceLength} characters`, {
        details: { line: 1, column: 1, limit: 'maxSourceLength' },
      });
    }
    this.skipSpace(true);
    while (this.position < this.source.length) {
      this.parseRule();
      this.skipSpace(true);
    }
    for (const reference of this.references) {
      if (!this.rules.has(reference.name)) this.fail(`undefined rule '${reference.name}'`, reference.at);
    }
    const start = this.options.start ?? 'root';
    if (!this.rules.has(start)) this.fail(`the grammar has no '${start}' rule`, 0);
    return { start, rules: this.rules };
  }

  private parseRule(): void {
    const nameStart = this.position;
    const name = this.parseName();
    this.skipSpace(false);
    if (!this.source.startsWith('::=', this.position)) this.fail(`expecting '::=' after rule name '${name}'`);
    this.position += 3;
    this.skipSpace(true);
    const body = this.parseAlternatives(false);
    const end = this.code();
    if (end === 0x0d) {
      this.position++;
      if (this.code() === 0x0a) this.position++;
    } else if (end === 0x0a) this.position++;
    else if (end !== -1) this.fail(`expecting end of rule, found '${this.source[this.position]}'`);
    if (this.rules.has(name)) this.fail(`rule '${name}' is defined twice`, nameStart);
    if (this.rules.size >= this.options.limits.maxRules) this.fail(`more than ${this.options.limits.maxRules} rules`, nameStart, 'constraint_invalid', { limit: 'maxRules' });
    this.rules.set(name, body);
  }

  private parseAlternatives(nested: boolean): GrammarExpr {
    const options: GrammarExpr[] = [this.parseSequence(nested)];
    while (this.code() === 0x7c /* | */) {
      this.position++;
      this.skipSpace(true);
      options.push(this.parseSequence(nested));
    }
    return options.length === 1 ? options[0] : { type: 'alt', options };
  }

  private parseSequence(nested: boolean): GrammarExpr {
    const items: GrammarExpr[] = [];
    for (;;) {
      const start = this.position;
      const char = this.code();
      if (char === 0x22 /* " */) {
        this.position++;
        let text = '';
        while (this.code() !== 0x22) {
          if (this.code() === -1) this.fail('unterminated literal', start);
          text += this.parseChar();
        }
        this.position++;
        items.push({ type: 'literal', text });
        this.skipSpace(nested);
      } else if (char === 0x5b /* [ */) {
        this.position++;
        const negated = this.code() === 0x5e;
        if (negated) this.position++;
        const ranges: Array<[number, number]> = [];
        while (this.code() !== 0x5d /* ] */) {
          if (this.code() === -1) this.fail('unterminated character class', start);
          const low = this.parseChar().codePointAt(0)!;
          if (this.code() === 0x2d && this.code(1) !== 0x5d && this.code(1) !== -1) {
            this.position++;
            const high = this.parseChar().codePointAt(0)!;
            if (high < low) this.fail('character range out of order', start);
            ranges.push([low, high]);
          } else ranges.push([low, low]);
        }
        this.position++;
        items.push({ type: 'char-class', ranges, negated });
        this.skipSpace(nested);
      } else if (char === 0x2e /* . */) {
        this.position++;
        items.push({ type: 'char-class', ranges: [], negated: true });
        this.skipSpace(nested);
      } else if (isWordChar(char)) {
        const name = this.parseName();
        this.references.push({ name, at: start });
        items.push({ type: 'ref', name });
        this.skipSpace(nested);
      } else if (char === 0x28 /* ( */) {
        if (++this.depth > this.options.limits.maxNesting) {
          this.fail(`groups nested deeper than ${this.options.limits.maxNesting}`, start, 'constraint_invalid', { limit: 'maxNesting' });
        }
        this.position++;
        this.skipSpace(true);
        const inner = this.parseAlternatives(true);
        if (this.code() !== 0x29) this.fail(`expecting ')'`, this.position);
        this.position++;
        this.depth--;
        items.push(inner);
        this.skipSpace(nested);
      } else if (char === 0x2a || char === 0x2b || char === 0x3f || char === 0x7b) {
        if (items.length === 0) this.fail('expecting something before a repetition operator');
        const last = items.pop()!;
        let min = 0;
        let max: number | null = null;
        this.position++;
        if (char === 0x2b) min = 1;
        else if (char === 0x3f) max = 1;
        else if (char === 0x7b) [min, max] = this.parseBraces(start);
        items.push({ type: 'repeat', item: last, min, max });
        this.skipSpace(nested);
      } else if (char === 0x3c /* < */ || char === 0x21 /* ! */) {
        this.fail('token references are not supported', start, 'constraint_unsupported');
      } else {
        break;
      }
    }
    return items.length === 1 ? items[0] : { type: 'seq', items };
  }

  private parseBraces(start: number): [number, number | null] {
    this.skipSpace(this.depth > 0);
    const readInt = (): number | null => {
      const from = this.position;
      while (this.code() >= 0x30 && this.code() <= 0x39) this.position++;
      if (from === this.position) return null;
      const value = Number(this.source.slice(from, this.position));
      if (value > this.options.limits.maxRepeat) this.fail(`repetition count above ${this.options.limits.maxRepeat}`, from, 'constraint_invalid', { limit: 'maxRepeat' });
      return value;
    };
    const min = readInt();
    this.skipSpace(this.depth > 0);
    let max: number | null;
    if (this.code() === 0x2c /* , */) {
      this.position++;
      this.skipSpace(this.depth > 0);
      max = readInt();
    } else {
      if (min === null) this.fail('expecting a number in {}', start);
      max = min;
    }
    this.skipSpace(this.depth > 0);
    if (this.code() !== 0x7d) this.fail(`expecting '}'`, this.position);
    this.position++;
    if (max !== null && max < (min ?? 0)) this.fail('repetition bounds out of order', start);
    return [min ?? 0, max];
  }

  /** One (possibly escaped) character of a literal or class. */
  private parseChar(): string {
    const start = this.position;
    const char = this.source.codePointAt(this.position)!;
    if (char !== 0x5c) {
      this.position += char > 0xffff ? 2 : 1;
      return String.fromCodePoint(char);
    }
    this.position++;
    const escape = this.source[this.position++];
    const hex = (length: number): string => {
      const digits = this.source.slice(this.position, this.position + length);
      if (digits.length !== length || !/^[0-9a-fA-F]+$/.test(digits)) this.fail(`expecting ${length} hex digits`, start);
      this.position += length;
      const value = parseInt(digits, 16);
      if (value > 0x10ffff || (value >= 0xd800 && value <= 0xdfff)) this.fail('escape is not a Unicode scalar value', start);
      return String.fromCodePoint(value);
    };
    switch (escape) {
      case 'x':
        return hex(2);
      case 'u':
        return hex(4);
      case 'U':
        return hex(8);
      case 't':
        return '\t';
      case 'r':
        return '\r';
      case 'n':
        return '\n';
      case '\\':
      case '"':
      case '[':
      case ']':
      case '-':
      case '^':
        return escape;
      default:
        return this.fail(`unknown escape '\\${escape ?? ''}'`, start);
    }
  }
}

/** Parses GBNF source into the Grammar IR (start rule `root` unless told otherwise). */
export function parseGbnf(source: string, options: GbnfParseOptions): Grammar {
  return new GbnfParser(source, options).parse();
}
