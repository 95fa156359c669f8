/**
 * Number ranges as regexes, checked exhaustively against arithmetic: integer ranges (every integer in a
 * window, many random ranges) and bounded decimals (a grid of numbers with fractions).
 */
import { boundedNumberRegex, integerRangeRegex } from '../../../src/decoding/json-schema/number-range-regex';

function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

describe('integerRangeRegex', () => {
  const random = seeded(7);
  const ranges: Array<[number | null, number | null]> = [[0, 0], [-1, 1], [5, 5], [-15, 120], [null, -3], [7, null], [null, null], [99, 1000], [-1000, -99], [1, 9]];
  for (let index = 0; index < 60; index++) {
    const a = Math.floor(random() * 4000) - 2000;
    const b = a + Math.floor(random() * 3000);
    ranges.push([random() < 0.1 ? null : a, random() < 0.1 ? null : b]);
  }
  test.each(ranges)('[%p, %p] matches exactly the integers inside', (low, high) => {
    const source = integerRangeRegex(low === null ? null : BigInt(low), high === null ? null : BigInt(high));
    expect(source).not.toBeNull();
    const regex = new RegExp(`^(?:${source})$`);
    const mismatches: number[] = [];
    for (let value = -2600; value <= 5200; value++) {
      const inside = (low === null || value >= low) && (high === null || value <= high);
      if (regex.test(String(value)) !== inside) mismatches.push(value);
    }
    expect(mismatches).toEqual([]);
    // never a non-canonical form
    expect(regex.test('007')).toBe(false);
    expect(regex.test('-0')).toBe(false);
  });

  test('empty range is null', () => {
    expect(integerRangeRegex(5n, 4n)).toBeNull();
  });
});

describe('boundedNumberRegex', () => {
  const texts: string[] = [];
  for (let integer = -25; integer <= 25; integer++) {
    for (const fraction of ['', '.0', '.00', '.5', '.05', '.001', '.999', '.10']) {
      if (integer < 0) texts.push(`-${-integer}${fraction}`);
      else texts.push(`${integer}${fraction}`);
      if (integer === 0) texts.push(`-0${fraction}`);
    }
  }
  const cases: Array<[number | null, boolean, number | null, boolean, number | null]> = [
    [0, false, 1, false, null],
    [0, true, 10, true, null],
    [-5, false, -1, false, null],
    [-5, true, 5, true, null],
    [null, false, 3, false, null],
    [-3, true, null, false, null],
    [0, false, null, false, 2],
    [-10, false, 10, true, 1],
    [2, false, 2, false, null],
    [2, true, 3, true, null],
  ];
  test.each(cases)('min %p (exclusive %p), max %p (exclusive %p), fraction digits %p', (minimum, minimumExclusive, maximum, maximumExclusive, digits) => {
    const source = boundedNumberRegex(
      {
        minimum: minimum === null ? undefined : { value: BigInt(minimum), exclusive: minimumExclusive },
        maximum: maximum === null ? undefined : { value: BigInt(maximum), exclusive: maximumExclusive },
      },
      digits,
    );
    const regex = new RegExp(`^(?:${source})$`);
    const wrong: string[] = [];
    let accepted = 0;
    for (const text of texts) {
      const value = Number(text);
      const written = text.includes('.') ? text.split('.')[1] : '';
      const fraction = written.replace(/0+$/, '');
      const inside =
        (minimum === null || (minimumExclusive ? value > minimum : value >= minimum)) &&
        (maximum === null || (maximumExclusive ? value < maximum : value <= maximum)) &&
        (digits === null || fraction.length <= digits);
      const matched = regex.test(text);
      // sound: never accepts outside; complete except for -0 forms
      if (matched && !inside) wrong.push(`${text} accepted`);
      const completenessExpected = !text.startsWith('-0') && (digits === null || written.length <= digits);
      if (!matched && inside && completenessExpected) wrong.push(`${text} rejected`);
      if (matched) accepted++;
    }
    expect(wrong).toEqual([]);
    expect(accepted).toBeGreaterThan(0);
  });
});
