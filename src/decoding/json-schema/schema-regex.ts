/**
 * Schema regexes: parses the ECMAScript regexes that JSON Schema `pattern` / `patternProperties` use
 * (and the ajv-formats rules) into a small AST over Unicode code points, and re-emits them as regexes
 * over the *JSON-encoded* text of a string body — which is what the grammar sees between the quotes.
 *
 * Hazard: a pattern speaks of decoded characters, the grammar of encoded ones. A `"` in the string is
 * `\"` on the wire, a newline is `\n`, other control characters are `\u00XX`. The emitter maps each
 * character set to exactly those encodings (the ones Python's json.dumps and JSON.stringify write);
 * other encodings of the same character (`\u0041` for `A`, `\/`) are not accepted — stricter, never wider.
 *
 * Unsupported (fail closed, `constraint_unsupported`): backreferences, lookaround, word boundaries,
 * `\p{…}` property classes, and `^`/`$` anywhere but the ends of a top-level alternative.
 */
import { GatewayError } from '../../errors/gateway-error';
import { withAsciiCaseVariants } from '../engine/utf8-ranges';

export type CodePointRanges = Array<[number, number]>;

export type RegexNode =
  | { type: 'set'; ranges: CodePointRanges }
  | { type: 'seq'; items: RegexNode[] }
  | { type: 'alt'; options: RegexNode[] }
  | { type: 'repeat'; item: RegexNode; min: number; max: number | null }
  | { type: 'start' }
  | { type: 'end' };

export const MAX_CODE_POINT = 0x10ffff;

/** Sorted, merged, non-overlapping ranges. */
export function normalizeRanges(ranges: CodePointRanges): CodePointRanges {
  const sorted = ranges.filter(([low, high]) => low <= high).sort((a, b) => a[0] - b[0]);
  const result: CodePointRanges = [];
  for (const [low, high] of sorted) {
    const last = result[result.length - 1];
    if (last && low <= last[1] + 1) last[1] = Math.max(last[1], high);
    else result.push([low, high]);
  }
  return result;
}

export function negateRanges(ranges: CodePointRanges): CodePointRanges {
  const normalized = normalizeRanges(ranges);
  const result: CodePointRanges = [];
  let next = 0;
  for (const [low, high] of normalized) {
    if (low > next) result.push([next, low - 1]);
    next = high + 1;
  }
  if (next <= MAX_CODE_POINT) result.push([next, MAX_CODE_POINT]);
  return result;
}

export function subtractRanges(ranges: CodePointRanges, remove: CodePointRanges): CodePointRanges {
  return intersectRanges(ranges, negateRanges(remove));
}

export function intersectRanges(a: CodePointRanges, b: CodePointRanges): CodePointRanges {
  const left = normalizeRanges(a);
  const right = normalizeRanges(b);
  const result: CodePointRanges = [];
  let i = 0;
  let j = 0;
  while (i < left.length && j < right.length) {
    const low = Math.max(left[i][0], right[j][0]);
    const high = Math.min(left[i][1], right[j][1]);
    if (low <= high) result.push([low, high]);
    if (left[i][1] < right[j][1]) i++;
    else j++;
  }
  return result;
}

const DIGIT: CodePointRanges = [[0x30, 0x39]];
const WORD: CodePointRanges = [[0x30, 0x39], [0x41, 0x5a], [0x5f, 0x5f], [0x61, 0x7a]];
const SPACE: CodePointRanges = [
  [0x09, 0x0d], [0x20, 0x20], [0xa0, 0xa0], [0x1680, 0x1680], [0x2000, 0x200a], [0x2028, 0x2029],
  [0x202f, 0x202f], [0x205f, 0x205f], [0x3000, 0x3000], [0xfeff, 0xfeff],
];
const LINE_TERMINATORS: CodePointRanges = [[0x0a, 0x0a], [0x0d, 0x0d], [0x2028, 0x2029]];
const DOT = negateRanges(LINE_TERMINATORS);

export interface RegexParseOptions {
  ignoreCase?: boolean;
  /** Where the regex came from, for error details. */
  keyword?: string;
  pointer?: string;
  /** Largest `{n,m}` bound accepted. */
  maxRepeat?: number;
}

function unsupported(message: string, options: RegexParseOptions): GatewayError {
  return new GatewayError('constraint_unsupported', `${options.keyword ?? 'pattern'} at ${options.pointer || '#'}: ${message}`, {
    details: { keyword: options.keyword ?? 'pattern', pointer: options.pointer ?? '' },
  });
}

function invalid(message: string, options: RegexParseOptions): GatewayError {
  return new GatewayError('constraint_invalid', `${options.keyword ?? 'pattern'} at ${options.pointer || '#'}: ${message}`, {
    details: { keyword: options.keyword ?? 'pattern', pointer: options.pointer ?? '' },
  });
}

/** Adds the other ASCII case of every letter (ignoreCase for the ASCII formats ajv-formats uses). */
function caseClose(ranges: CodePointRanges): CodePointRanges {
  return normalizeRanges(withAsciiCaseVariants(ranges));
}

/** Parses a JS regex source (the `u`-flag dialect ajv uses) into a RegexNode. */
export function parseSchemaRegex(source: string, options: RegexParseOptions = {}): RegexNode {
  const chars = Array.from(source);
  const maxRepeat = options.maxRepeat ?? 10000;
  let position = 0;

  const peek = (): string | undefined => chars[position];
  const eat = (char: string): boolean => {
    if (chars[position] === char) {
      position++;
      return true;
    }
    return false;
  };
  const makeSet = (ranges: CodePointRanges): RegexNode => ({
    type: 'set',
    ranges: options.ignoreCase ? caseClose(normalizeRanges(ranges)) : normalizeRanges(ranges),
  });

  function parseAlternation(): RegexNode {
    const options: RegexNode[] = [parseSequence()];
    while (eat('|')) options.push(parseSequence());
    return options.length === 1 ? options[0] : { type: 'alt', options };
  }

  function parseSequence(): RegexNode {
    const items: RegexNode[] = [];
    while (position < chars.length && peek() !== '|' && peek() !== ')') {
      const atom = parseAtom();
      items.push(parseQuantifier(atom));
    }
    return items.length === 1 ? items[0] : { type: 'seq', items };
  }

  function parseNumber(): number | undefined {
    const begin = position;
    while (position < chars.length && /[0-9]/.test(chars[position])) position++;
    if (position === begin) return undefined;
    return Number(chars.slice(begin, position).join(''));
  }

  function parseQuantifier(atom: RegexNode): RegexNode {
    let result = atom;
    for (;;) {
      const char = peek();
      let min: number;
      let max: number | null;
      if (char === '*') {
        position++;
        min = 0;
        max = null;
      } else if (char === '+') {
        position++;
        min = 1;
        max = null;
      } else if (char === '?') {
        position++;
        min = 0;
        max = 1;
      } else if (char === '{') {
        const save = position;
        position++;
        const low = parseNumber();
        if (low === undefined) {
          position = save;
          return result;
        }
        let high: number | null = low;
        if (eat(',')) high = parseNumber() ?? null;
        if (!eat('}')) throw invalid('malformed {n,m} quantifier', options);
        min = low;
        max = high;
        if (max !== null && max < min) throw invalid('quantifier range out of order', options);
        if (min > maxRepeat || (max !== null && max > maxRepeat)) throw unsupported(`repetition bound above ${maxRepeat}`, options);
      } else {
        return result;
      }
      eat('?'); // lazy: same language
      if (result.type === 'start' || result.type === 'end') throw unsupported('quantified anchor', options);
      result = { type: 'repeat', item: result, min, max };
    }
  }

  function parseHex(count: number): number {
    const text = chars.slice(position, position + count).join('');
    if (text.length !== count || !/^[0-9a-fA-F]+$/.test(text)) throw invalid('bad hex escape', options);
    position += count;
    return parseInt(text, 16);
  }

  /** An escape after `\`; returns ranges (a class escape or a single character). */
  function parseEscape(inClass: boolean): CodePointRanges {
    const char = chars[position++];
    if (char === undefined) throw invalid('trailing backslash', options);
    switch (char) {
      case 'd': return DIGIT;
      case 'D': return negateRanges(DIGIT);
      case 'w': return WORD;
      case 'W': return negateRanges(WORD);
      case 's': return SPACE;
      case 'S': return negateRanges(SPACE);
      case 'n': return [[0x0a, 0x0a]];
      case 'r': return [[0x0d, 0x0d]];
      case 't': return [[0x09, 0x09]];
      case 'v': return [[0x0b, 0x0b]];
      case 'f': return [[0x0c, 0x0c]];
      case '0':
        if (/[0-9]/.test(peek() ?? '')) throw unsupported('octal escape', options);
        return [[0, 0]];
      case 'b':
        if (inClass) return [[0x08, 0x08]];
        throw unsupported('word boundary \\b', options);
      case 'B': throw unsupported('word boundary \\B', options);
      case 'c': {
        const letter = chars[position++];
        if (!letter || !/[a-zA-Z]/.test(letter)) throw invalid('bad \\c escape', options);
        const code = letter.codePointAt(0)! % 32;
        return [[code, code]];
      }
      case 'x': {
        const code = parseHex(2);
        return [[code, code]];
      }
      case 'u': {
        if (eat('{')) {
          const begin = position;
          while (position < chars.length && chars[position] !== '}') position++;
          const text = chars.slice(begin, position).join('');
          if (!eat('}') || !/^[0-9a-fA-F]{1,6}$/.test(text)) throw invalid('bad \\u{…} escape', options);
          const code = parseInt(text, 16);
          if (code > MAX_CODE_POINT) throw invalid('code point out of range', options);
          return [[code, code]];
        }
        let code = parseHex(4);
        if (code >= 0xd800 && code <= 0xdbff && chars[position] === '\\' && chars[position + 1] === 'u') {
          const save = position;
          position += 2;
          const low = parseHex(4);
          if (low >= 0xdc00 && low <= 0xdfff) code = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00);
          else position = save;
        }
        return [[code, code]];
      }
      case 'p':
      case 'P':
        throw unsupported('Unicode property escapes', options);
      case 'k':
        throw unsupported('named backreference', options);
      default:
        if (/[1-9]/.test(char)) throw unsupported('backreference', options);
        // identity escape (syntax characters, `/`, `-`)
        return [[char.codePointAt(0)!, char.codePointAt(0)!]];
    }
  }

  function parseClass(): RegexNode {
    const negated = eat('^');
    const ranges: CodePointRanges = [];
    let first = true;
    while (position < chars.length && (peek() !== ']' || false)) {
      first = false;
      let low: CodePointRanges;
      if (eat('\\')) low = parseEscape(true);
      else {
        const char = chars[position++];
        low = [[char.codePointAt(0)!, char.codePointAt(0)!]];
      }
      if (peek() === '-' && chars[position + 1] !== undefined && chars[position + 1] !== ']') {
        position++;
        let high: CodePointRanges;
        if (eat('\\')) high = parseEscape(true);
        else {
          const char = chars[position++];
          high = [[char.codePointAt(0)!, char.codePointAt(0)!]];
        }
        if (low.length !== 1 || high.length !== 1 || low[0][0] !== low[0][1] || high[0][0] !== high[0][1]) {
          throw invalid('character class range with a class escape', options);
        }
        if (high[0][0] < low[0][0]) throw invalid('character class range out of order', options);
        ranges.push([low[0][0], high[0][0]]);
      } else {
        ranges.push(...low);
      }
    }
    void first;
    if (!eat(']')) throw invalid('unterminated character class', options);
    let result = normalizeRanges(ranges);
    if (options.ignoreCase) result = caseClose(result);
    return { type: 'set', ranges: negated ? negateRanges(result) : result };
  }

  function parseAtom(): RegexNode {
    const char = chars[position++];
    switch (char) {
      case '^': return { type: 'start' };
      case '$': return { type: 'end' };
      case '.': return { type: 'set', ranges: DOT };
      case '[': return parseClass();
      case '\\': return makeSet(parseEscape(false));
      case '(': {
        if (eat('?')) {
          if (eat(':')) {
            /* non-capturing */
          } else if (peek() === '<' && chars[position + 1] !== '=' && chars[position + 1] !== '!') {
            position++;
            while (position < chars.length && chars[position] !== '>') position++;
            if (!eat('>')) throw invalid('bad group name', options);
          } else {
            throw unsupported('lookaround assertions', options);
          }
        }
        const inner = parseAlternation();
        if (!eat(')')) throw invalid('unbalanced parenthesis', options);
        if (containsAnchor(inner)) throw unsupported('anchors inside a group', options);
        return inner;
      }
      case ')': throw invalid('unbalanced parenthesis', options);
      case '*':
      case '+':
      case '?':
        throw invalid('nothing to repeat', options);
      case '{': {
        // A literal `{` is a syntax error in the u dialect unless it starts a quantifier.
        return makeSet([[0x7b, 0x7b]]);
      }
      default:
        return makeSet([[char.codePointAt(0)!, char.codePointAt(0)!]]);
    }
  }

  const result = parseAlternation();
  if (position < chars.length) throw invalid('unbalanced parenthesis', options);
  return result;
}

function containsAnchor(node: RegexNode): boolean {
  switch (node.type) {
    case 'start':
    case 'end':
      return true;
    case 'seq': return node.items.some(containsAnchor);
    case 'alt': return node.options.some(containsAnchor);
    case 'repeat': return containsAnchor(node.item);
    default: return false;
  }
}

const ANY_CHAR: RegexNode = { type: 'set', ranges: [[0, MAX_CODE_POINT]] };
const ANY_STRING: RegexNode = { type: 'repeat', item: ANY_CHAR, min: 0, max: null };

/**
 * Turns the search semantics of a JSON Schema pattern into a whole-string match: each top-level
 * alternative gets `.*`-style padding on the sides that are not anchored. Anchors elsewhere are unsupported.
 */
export function patternToWholeMatch(node: RegexNode, options: RegexParseOptions = {}): RegexNode {
  const alternatives = node.type === 'alt' ? node.options : [node];
  const converted = alternatives.map((alternative) => {
    let items = alternative.type === 'seq' ? [...alternative.items] : [alternative];
    let anchoredStart = false;
    let anchoredEnd = false;
    // Leading `^`s and trailing `$`s (repeated anchors are idempotent).
    while (items.length > 0 && items[0].type === 'start') {
      anchoredStart = true;
      items = items.slice(1);
    }
    while (items.length > 0 && items[items.length - 1].type === 'end') {
      anchoredEnd = true;
      items = items.slice(0, -1);
    }
    if (items.some(containsAnchor)) throw unsupported('anchor in the middle of a pattern', options);
    return {
      type: 'seq' as const,
      items: [...(anchoredStart ? [] : [ANY_STRING]), ...items, ...(anchoredEnd ? [] : [ANY_STRING])],
    };
  });
  return converted.length === 1 ? converted[0] : { type: 'alt', options: converted };
}

/** Length bounds (in code points) of the strings a node matches. */
export function regexLengthRange(node: RegexNode): { min: number; max: number } {
  switch (node.type) {
    case 'set':
      return node.ranges.length === 0 ? { min: Infinity, max: -Infinity } : { min: 1, max: 1 };
    case 'start':
    case 'end':
      return { min: 0, max: 0 };
    case 'seq':
      return node.items.reduce(
        (total, item) => {
          const range = regexLengthRange(item);
          return { min: total.min + range.min, max: total.max + range.max };
        },
        { min: 0, max: 0 },
      );
    case 'alt':
      return node.options.reduce(
        (total, option) => {
          const range = regexLengthRange(option);
          return { min: Math.min(total.min, range.min), max: Math.max(total.max, range.max) };
        },
        { min: Infinity, max: -Infinity },
      );
    case 'repeat': {
      const range = regexLengthRange(node.item);
      if (range.min === Infinity) return node.min === 0 ? { min: 0, max: 0 } : range;
      return { min: range.min * node.min, max: node.max === null ? (range.max === 0 ? 0 : Infinity) : range.max * node.max };
    }
  }
}

/**
 * Intersects a whole-match regex with a length range, where that can be written as a regex: each
 * top-level alternative may have at most one variable-length part, a repetition of single characters
 * (`^[a-z]+$` with maxLength 8 becomes `[a-z]{1,8}`). Returns undefined when that shape does not hold,
 * null when no string fits.
 */
export function constrainRegexLength(node: RegexNode, min: number, max: number): RegexNode | null | undefined {
  if (node.type === 'alt') {
    const options: RegexNode[] = [];
    for (const option of node.options) {
      const constrained = constrainRegexLength(option, min, max);
      if (constrained === undefined) return undefined;
      if (constrained !== null) options.push(constrained);
    }
    if (options.length === 0) return null;
    return options.length === 1 ? options[0] : { type: 'alt', options };
  }
  const items = node.type === 'seq' ? node.items : [node];
  let fixed = 0;
  let variable = -1;
  for (const [index, item] of items.entries()) {
    const range = regexLengthRange(item);
    if (range.min === range.max) {
      fixed += range.min;
      continue;
    }
    if (variable >= 0 || item.type !== 'repeat') return undefined;
    const inner = regexLengthRange(item.item);
    if (inner.min !== 1 || inner.max !== 1) return undefined;
    variable = index;
  }
  if (variable < 0) return fixed >= min && fixed <= max ? node : null;
  const repeat = items[variable] as Extract<RegexNode, { type: 'repeat' }>;
  const low = Math.max(repeat.min, min - fixed);
  const high = Math.min(repeat.max ?? Infinity, max - fixed);
  if (low > high) return null;
  const replaced: RegexNode = { type: 'repeat', item: repeat.item, min: low, max: high === Infinity ? null : high };
  return { type: 'seq', items: items.map((item, index) => (index === variable ? replaced : item)) };
}

/**
 * A quantifier `inner{min,max}` written with no single bound above `limit` (the engine bounds each
 * `{n,m}`): `(?:X{limit}){q}X{r}` for the required part, `(?:X{0,limit}){0,q}X{0,r}` for the rest.
 */
export function boundedQuantifier(inner: string, min: number, max: number | null, limit: number): string {
  const group = `(?:${inner})`;
  const simple = (low: number, high: number | null): string => {
    if (low === 0 && high === null) return `${group}*`;
    if (low === 1 && high === null) return `${group}+`;
    if (low === 0 && high === 1) return `${group}?`;
    if (high === null) return `${group}{${low},}`;
    if (low === high) return low === 1 ? group : low === 0 ? '' : `${group}{${low}}`;
    return `${group}{${low},${high}}`;
  };
  if (min <= limit && (max === null || max <= limit)) return simple(min, max);
  const required = min > limit ? `(?:${group}{${limit}}){${Math.floor(min / limit)}}${simple(min % limit, min % limit)}` : simple(min, min);
  if (max === null) return `${required}${group}*`;
  const extra = max - min;
  const optional = extra > limit ? `(?:${group}{0,${limit}}){0,${Math.floor(extra / limit)}}${simple(0, extra % limit)}` : simple(0, extra);
  return `${required}${optional}`;
}

// ---------------------------------------------------------------------------------------------------
// Emission over the JSON-encoded text of a string body

/** Characters that appear raw inside a JSON string (everything but `"`, `\` and C0 controls). */
export const RAW_STRING_RANGES: CodePointRanges = negateRanges([[0x00, 0x1f], [0x22, 0x22], [0x5c, 0x5c]]);

const SHORT_ESCAPES: Record<number, string> = { 0x22: '"', 0x5c: '\\', 0x08: 'b', 0x0c: 'f', 0x0a: 'n', 0x0d: 'r', 0x09: 't' };

/** A code point written inside a regex character class (or alone) in a form every JS-syntax parser reads. */
export function regexCodePoint(code: number, inClass: boolean): string {
  if ((code >= 0x30 && code <= 0x39) || (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a)) return String.fromCodePoint(code);
  if (!inClass && code < 0x7f && code > 0x20 && '^$\\.*+?()[]{}|/'.indexOf(String.fromCharCode(code)) >= 0) return `\\${String.fromCharCode(code)}`;
  if (!inClass && code < 0x7f && code > 0x20) return String.fromCharCode(code);
  if (code <= 0xffff) return `\\u${code.toString(16).padStart(4, '0')}`;
  return `\\u{${code.toString(16)}}`;
}

export function rangesToClass(ranges: CodePointRanges): string {
  const normalized = normalizeRanges(ranges);
  if (normalized.length === 1 && normalized[0][0] === normalized[0][1]) return regexCodePoint(normalized[0][0], false);
  const parts = normalized.map(([low, high]) =>
    low === high ? regexCodePoint(low, true) : high === low + 1 ? `${regexCodePoint(low, true)}${regexCodePoint(high, true)}` : `${regexCodePoint(low, true)}-${regexCodePoint(high, true)}`,
  );
  return `[${parts.join('')}]`;
}

function hexAnyCase(digit: string): string {
  return /[a-f]/.test(digit) ? `[${digit}${digit.toUpperCase()}]` : digit;
}

/** The accepted encodings (as regex alternatives) of a set of decoded characters inside a JSON string. */
export function encodedSetRegex(ranges: CodePointRanges): string {
  const alternatives: string[] = [];
  const raw = intersectRanges(ranges, RAW_STRING_RANGES);
  if (raw.length > 0) alternatives.push(rangesToClass(raw));
  const special = intersectRanges(ranges, [[0x00, 0x1f], [0x22, 0x22], [0x5c, 0x5c]]);
  const shortLetters: string[] = [];
  const controls: number[] = [];
  for (const [low, high] of special) {
    for (let code = low; code <= high; code++) {
      if (SHORT_ESCAPES[code] !== undefined) shortLetters.push(SHORT_ESCAPES[code]);
      if (code < 0x20) controls.push(code);
    }
  }
  if (shortLetters.length > 0) {
    const letters = shortLetters.map((letter) => (letter === '"' ? '"' : letter === '\\' ? '\\\\' : letter));
    alternatives.push(letters.length === 1 ? `\\\\${letters[0]}` : `\\\\[${letters.join('')}]`);
  }
  if (controls.length === 32) alternatives.push('\\\\u00[01][0-9a-fA-F]');
  else {
    for (const code of controls) {
      const hex = code.toString(16).padStart(2, '0');
      alternatives.push(`\\\\u00${hexAnyCase(hex[0])}${hexAnyCase(hex[1])}`);
    }
  }
  if (alternatives.length === 0) return '[]';
  return alternatives.length === 1 ? alternatives[0] : `(?:${alternatives.join('|')})`;
}

/** One character of any JSON string body (canonical encodings only; no surrogate escapes). */
export const JSON_STRING_CHAR = encodedSetRegex([[0, MAX_CODE_POINT]]);

/** Emits a node as a regex over the JSON-encoded body of a string. */
export function emitEncodedRegex(node: RegexNode, repeatLimit = 1000): string {
  switch (node.type) {
    case 'set':
      return encodedSetRegex(node.ranges);
    case 'seq':
      return node.items.map((item) => emitEncodedRegex(item, repeatLimit)).join('');
    case 'alt':
      return `(?:${node.options.map((option) => emitEncodedRegex(option, repeatLimit)).join('|')})`;
    case 'repeat':
      return `(?:${boundedQuantifier(emitEncodedRegex(node.item, repeatLimit), node.min, node.max, repeatLimit)})`;
    case 'start':
    case 'end':
      throw new GatewayError('internal_error', 'anchor left in a regex after conversion');
  }
}
