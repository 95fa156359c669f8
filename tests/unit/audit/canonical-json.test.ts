/** canonicalJson: key order, no whitespace, undefined dropped, non-finite and over-deep values refused. */
import { canonicalJson, CANONICAL_JSON_MAX_DEPTH } from '../../../src/audit/canonical-json';
import { recordHash, recordHashFromText } from '../../../src/audit/hash-chain';

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
});
