/**
 * Formats: the grammar's regex for each asserted format must accept nothing that ajv-formats' full
 * rules reject (the post-check uses them). Checked on valid examples and on many mutations of them
 * (character swaps, insertions, deletions, boundary values).
 */
import { fullFormats } from 'ajv-formats/dist/formats';
import { formatRule } from '../../../src/decoding/json-schema/format-regex';
import { emitEncodedRegex, parseSchemaRegex } from '../../../src/decoding/json-schema/schema-regex';

const EXAMPLES: Record<string, string[]> = {
  date: ['2024-02-29', '2023-02-28', '2000-02-29', '1900-02-28', '2023-12-31', '2023-04-30', '0000-01-01'],
  time: ['23:59:59Z', '00:00:00+00:00', '12:30:45.123-05:30', '08:15:00z', '10:00:00+0530', '10:00:00+05'],
  'date-time': ['2024-02-29T23:59:59Z', '2023-01-01t00:00:00.5+01:00', '2023-06-15 12:00:00-07:00'],
  duration: ['P1D', 'PT1H', 'P1Y2M3DT4H5M6S', 'P2W', 'PT0S', 'P1M', 'PT1M30S'],
  email: ['a@b.co', 'first.last@example.com', 'X+tag@sub.example.org', "o'neil@x.io"],
  hostname: ['example.com', 'a', 'sub-domain.example.co.uk', 'localhost', 'x1.y2.'],
  ipv4: ['0.0.0.0', '255.255.255.255', '192.168.1.10', '8.8.8.8'],
  ipv6: ['::1', '::', '2001:db8::ff00:42:8329', 'fe80::1:2:3:4', '1:2:3:4:5:6:7:8', '::ffff:192.168.1.1', 'ABCD:EF01::1'],
  uuid: ['123e4567-e89b-12d3-a456-426614174000', 'urn:uuid:123E4567-E89B-12D3-A456-426614174000'],
  uri: ['http://example.com', 'https://a.b/c?d=e#f', 'urn:isbn:0451450523', 'mailto:x@y.z', 'ftp://[::1]:21/x', 'HTTP://EXAMPLE.COM/%20'],
};

const ALPHABET = ['0', '1', '2', '9', 'a', 'Z', 'T', 'z', ':', '-', '.', '@', '/', '%', '+', ' ', '#', '[', ']', 'é', '_'];

function mutations(text: string, random: () => number, count: number): string[] {
  const result = new Set<string>();
  for (let index = 0; index < count; index++) {
    const chars = Array.from(text);
    const position = Math.floor(random() * (chars.length + 1));
    const char = ALPHABET[Math.floor(random() * ALPHABET.length)];
    const kind = random();
    if (kind < 0.4 && chars.length > 0) chars[Math.min(position, chars.length - 1)] = char;
    else if (kind < 0.7) chars.splice(position, 0, char);
    else chars.splice(position, 1);
    result.add(chars.join(''));
  }
  return [...result];
}

function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

type Validator = (text: string) => boolean;
function ajvValidator(name: string): Validator {
  const format = (fullFormats as Record<string, unknown>)[name];
  if (format instanceof RegExp) return (text) => format.test(text);
  if (typeof format === 'function') return format as Validator;
  const validate = (format as { validate: RegExp | Validator }).validate;
  return validate instanceof RegExp ? (text) => validate.test(text) : validate;
}

describe.each(Object.keys(EXAMPLES))('format %s', (name) => {
  const rule = formatRule(name);
  if (rule.type !== 'regex') throw new Error(`${name} should be a regex format`);
  const grammar = new RegExp(`^(?:${emitEncodedRegex(parseSchemaRegex(rule.source, { ignoreCase: rule.ignoreCase }))})$`, 'u');
  const ajv = ajvValidator(name);

  test('valid examples are accepted by both', () => {
    for (const example of EXAMPLES[name]) {
      expect({ example, ajv: ajv(example) }).toEqual({ example, ajv: true });
      expect({ example, grammar: grammar.test(example) }).toEqual({ example, grammar: true });
    }
  });

  test('never accepts what ajv-formats rejects (mutation fuzz)', () => {
    const random = seeded(name.length * 7919);
    const unsound: string[] = [];
    let checked = 0;
    for (const example of EXAMPLES[name]) {
      let frontier = [example];
      for (let round = 0; round < 3; round++) {
        const next: string[] = [];
        for (const text of frontier) next.push(...mutations(text, random, 40));
        for (const candidate of next) {
          checked++;
          // JSON-escaped text equals the raw text for these printable candidates
          if (!/["\\\u0000-\u001f]/.test(candidate) && grammar.test(candidate) && !ajv(candidate)) unsound.push(candidate);
        }
        frontier = next.filter(() => random() < 0.1);
      }
    }
    expect(unsound).toEqual([]);
    expect(checked).toBeGreaterThan(100);
  });
});

test('int32 is a number format with bounds; unknown names are annotations; known-but-unenforced fail closed', () => {
  expect(formatRule('int32')).toEqual({ type: 'number', integer: true, minimum: -(2n ** 31n), maximum: 2n ** 31n - 1n });
  expect(formatRule('x-vendor')).toEqual({ type: 'ignore' });
  expect(formatRule('uri-reference')).toEqual({ type: 'unsupported' });
  expect(formatRule('iri')).toEqual({ type: 'unsupported' });
});
