/** canonicalJson: key order, no whitespace, undefined dropped, non-finite and over-deep values refused. */
import { mulberry32 } from '../../../src/util/mulberry32';
import { canonicalJson, canonicalJsonGeneral, CANONICAL_JSON_MAX_DEPTH } from '../../../src/audit/canonical-json';
import { createHash } from 'node:crypto';
import { recordHash, recordHashFromText, sha256Hex } from '../../../src/audit/hash-chain';

describe('canonicalJson', () => {
  test('sorts keys at every level and writes no whitespace', () => {
    expect(canonicalJson({ b: 1, a: [3, { d: 'x', c: null }], é: true })).toBe('{"a":[3,{"c":null,"d":"x"}],"b":1,"é":true}');
  });
  test('the same value in another key order encodes to the same bytes', () => {
    expect(canonicalJson({ x: 1, y: { p: 2, q: 3 } })).toBe(canonicalJson({ y: { q: 3, p: 2 }, x: 1 }));
  });
  test('drops undefined members, writes undefined array items as null', () => {
    expect(canonicalJson({ a: undefined, b: [undefined] })).toBe('{"b":[null]}');
  });
  test('refuses NaN, Infinity, functions and nesting beyond the limit', () => {
    expect(() => canonicalJson({ a: NaN })).toThrow(/non-finite/);
    expect(() => canonicalJson({ a: Infinity })).toThrow(/non-finite/);
    expect(() => canonicalJson({ a: () => 1 })).toThrow(/function/);
    let deep: unknown = 1;
    for (let index = 0; index <= CANONICAL_JSON_MAX_DEPTH + 1; index++) deep = [deep];
    expect(() => canonicalJson(deep)).toThrow(/deeper/);
  });
});

describe('recordHashFromText', () => {
  test('equals recordHash over the parsed event when the text is canonical, differs when it is not', () => {
    const event = { b: [1, 'two', { z: null, a: true }], a: 'é\u2028"' };
    const fields = { id: 'aud_1', seq: 42, time: '2026-01-01T00:00:00.000Z', prev_hash: '0'.repeat(64) };
    expect(recordHashFromText({ ...fields, eventText: canonicalJson(event) })).toBe(recordHash({ ...fields, event }));
    expect(recordHashFromText({ ...fields, eventText: JSON.stringify(event) })).not.toBe(recordHash({ ...fields, event }));
  });

  test('gives the same bytes as a straightforward reference encoder on random nested values', () => {
    // The reference: sorted keys via map/filter/join — the obvious definition, kept independent of the
    // single-pass implementation.
    const reference = (value: unknown): string => {
      if (value === null) return 'null';
      if (Array.isArray(value)) return `[${value.map((item) => (item === undefined ? 'null' : reference(item))).join(',')}]`;
      if (typeof value === 'object') {
        const object = value as Record<string, unknown>;
        const keys = Object.keys(object).filter((key) => object[key] !== undefined).sort();
        return `{${keys.map((key) => `${JSON.stringify(key)}:${reference(object[key])}`).join(',')}}`;
      }
      return JSON.stringify(value);
    };
    const random = mulberry32(20261128);
    const pick = <T>(items: T[]): T => items[Math.floor(random() * items.length)];
    const keys = ['a', 'B', 'b', 'z', '\u00e9', '\ud83d\ude00', 'a b', '"q"', '10', '2', '', 'k\n', '\ud800', '\\', '\u0001', 'aa', 'A'];
    const make = (depth: number): unknown => {
      const kind = depth > 4 ? Math.floor(random() * 4) : Math.floor(random() * 7);
      if (kind === 0) return pick([0, -0, 1.5, -2e-7, 1e21, 123456789012345680000, Number.MAX_SAFE_INTEGER]);
      if (kind === 1) {
        return pick([
          '', 'plain', 'line\nbreak', 'quote " and \\', '\u2028', '\ud800 lone', '\u00e9t\u00e9', 'tab\tand\u0000nul\u001f', '\u007f\u0080',
          'low \udc00 lone', 'pair \ud83d\ude00', 'ends high \ud83d', '\\', '"', '/slash/', 'x'.repeat(300), `${'y'.repeat(200)}\n`,
        ]);
      }
      if (kind === 2) return pick([true, false, null]);
      if (kind === 3) return undefined;
      if (kind === 4) return Array.from({ length: Math.floor(random() * 4) }, () => make(depth + 1));
      const object: Record<string, unknown> = {};
      for (let index = Math.floor(random() * 5); index > 0; index--) object[pick(keys)] = make(depth + 1);
      return object;
    };
    let objects = 0;
    for (let round = 0; round < 2000; round++) {
      const value = { root: make(0), extra: make(1) };
      const text = canonicalJson(value);
      expect(text).toBe(reference(value));
      if (/\{"/.test(text.slice(1))) objects++;
    }
    // The generator really produced nested objects (so key sorting was exercised).
    expect(objects).toBeGreaterThan(500);
  });
});

describe('canonicalJson on sorted plain data (the JSON.stringify path)', () => {
  const outcome = (encoder: (value: unknown) => string, value: unknown): string => {
    try {
      return `ok ${encoder(value)}`;
    } catch (error) {
      return `throws ${(error as Error).message}`;
    }
  };
  const same = (value: unknown) => expect(outcome(canonicalJson, value)).toBe(outcome(canonicalJsonGeneral, value));

  test('equals the general encoder on random data built with sorted keys', () => {
    const random = mulberry32(20261129);
    const pick = <T>(items: T[]): T => items[Math.floor(random() * items.length)];
    const keys = ['', '"q"', '10', '2', 'A', 'B', '\\', 'a', 'a b', 'aa', 'b', 'k\n', 'z', '\u00e9', '\ud800', '\ud83d\ude00', '\u0001'];
    const make = (depth: number): unknown => {
      const kind = depth > 4 ? Math.floor(random() * 4) : Math.floor(random() * 7);
      if (kind === 0) return pick([0, -0, 1.5, -2e-7, 1e21, 0.1 + 0.2, 123456789012345680000, Number.MAX_SAFE_INTEGER]);
      if (kind === 1) return pick(['', 'plain', 'line\nbreak', 'quote " and \\', '\u2028', '\ud800 lone', 'low \udc00', 'pair \ud83d\ude00', 'tab\tand\u0000nul', '\u007f\u0080']);
      if (kind === 2) return pick([true, false, null]);
      if (kind === 3) return undefined;
      if (kind === 4) return Array.from({ length: Math.floor(random() * 4) }, () => make(depth + 1));
      const chosen = [...new Set(Array.from({ length: Math.floor(random() * 5) }, () => pick(keys)))].sort();
      const object: Record<string, unknown> = random() < 0.2 ? Object.create(null) : {};
      for (const key of chosen) object[key] = make(depth + 1);
      return object;
    };
    for (let round = 0; round < 3000; round++) {
      const value = make(0);
      same(value);
      same({ a: value, b: [value, undefined], c: { d: value } });
    }
  });

  test('what JSON.stringify would write differently takes the general encoder', () => {
    class Point {
      constructor(readonly x: number) {}
    }
    const holes = [1, , 3]; // eslint-disable-line no-sparse-arrays
    const values: unknown[] = [
      { a: new Date(0) }, { a: new Point(1) }, { a: Object('boxed') }, { a: Object(2) }, { a: new Map([[1, 2]]) }, { a: Buffer.from('x') },
      { a: new Uint8Array(2) }, { toJSON: 'not a function' }, { a: { '10': 1, '9': 2 } }, { '2': 'x', '10': 'y' }, JSON.parse('{"__proto__":{"b":1},"a":2}'),
      { a: holes }, { a: -0 }, { b: 1, a: 2 }, { a: [{ c: 1, b: 2 }] }, Object.assign(Object.create({ inherited: 1 }), { own: 2 }),
    ];
    for (const value of values) same(value);
    expect(canonicalJson({ a: new Date(0), b: new Point(1) })).toBe('{"a":{},"b":{"x":1}}');
    expect(canonicalJson({ a: holes })).toBe('{"a":[1,null,3]}');
  });

  test('refuses what the general encoder refuses, sorted or not', () => {
    expect(() => canonicalJson({ a: NaN })).toThrow(/non-finite/);
    expect(() => canonicalJson({ a: [1, -Infinity] })).toThrow(/non-finite/);
    expect(() => canonicalJson({ a: () => 1 })).toThrow(/function/);
    expect(() => canonicalJson({ toJSON: () => 'x' })).toThrow(/function/);
    expect(() => canonicalJson({ a: Symbol('s') })).toThrow(/symbol/);
    expect(() => canonicalJson({ a: BigInt(1) })).toThrow(/bigint/);
    expect(() => canonicalJson(undefined)).toThrow(/undefined/);
    let deep: unknown = 1;
    for (let index = 0; index <= CANONICAL_JSON_MAX_DEPTH + 1; index++) deep = { a: deep };
    expect(() => canonicalJson(deep)).toThrow(/deeper/);
  });

  test('a toJSON added to Object.prototype or Array.prototype does not change the encoding', () => {
    const value = { a: [1, { b: 'x' }] };
    const expected = canonicalJsonGeneral(value);
    for (const prototype of [Object.prototype, Array.prototype] as Array<Record<string, unknown>>) {
      prototype.toJSON = () => 'polluted';
      try {
        expect(canonicalJson(value)).toBe(expected);
      } finally {
        delete prototype.toJSON;
      }
    }
  });
});

describe('sha256Hex', () => {
  test('equals createHash over the UTF-8 bytes, lone surrogates included', () => {
    for (const text of ['', 'abc', '\u00e9t\u00e9', '\ud83d\ude00', 'lone \ud800 high', 'lone \udc00 low', 'x'.repeat(5000)]) {
      expect(sha256Hex(text)).toBe(createHash('sha256').update(text, 'utf8').digest('hex'));
    }
  });
});
