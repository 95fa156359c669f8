import { compileRegexSearch } from '../../../src/safety/filters/regex-search';
import { createRegexFilter, validateRegexParams } from '../../../src/safety/filters/regex-filter';

const spans = (pattern: string, text: string, ignoreCase = false) =>
  compileRegexSearch(pattern, { ignoreCase }).search(text).map(([start, end]) => text.slice(start, end));

describe('linear-time regex search', () => {
  test('leftmost-longest, non-overlapping', () => {
    expect(spans('ab|abc', 'xabcx abx')).toEqual(['abc', 'ab']);
    expect(spans('a+', 'baaab aa')).toEqual(['aaa', 'aa']);
    expect(spans('[0-9]{3}-[0-9]{4}', 'call 555-1234 or 555-9876')).toEqual(['555-1234', '555-9876']);
    expect(spans('\\d+(?:\\.\\d+)?', 'v 1.25 and 7')).toEqual(['1.25', '7']);
  });

  test('ignore case and anchors', () => {
    expect(spans('secret', 'SeCrEt', true)).toEqual(['SeCrEt']);
    expect(spans('secret', 'SeCrEt', false)).toEqual([]);
    expect(spans('^ab', 'ab ab')).toEqual(['ab']);
    expect(spans('ab$', 'ab ab')).toEqual(['ab']);
  });

  test('pathological patterns stay fast (no backtracking)', () => {
    const text = 'a'.repeat(20_000) + '!';
    expect(spans('(a+)+b', text)).toEqual([]);
    expect(spans('(a|aa)*c', text)).toEqual([]);
  });

  test('max match length bounds a match', () => {
    const search = compileRegexSearch('a+', { maxMatchLength: 4 });
    expect(search.search('aaaaaa')).toEqual([[0, 4], [4, 6]]);
  });

  test('unsupported constructs are rejected, not approximated', () => {
    expect(() => compileRegexSearch('(a)\\1')).toThrow();
    expect(() => compileRegexSearch('a(?=b)')).toThrow();
    expect(validateRegexParams({ rules: [{ name: 'x', pattern: 'ok' }, { name: 'y', pattern: '(?<=a)b' }] })).toEqual([
      { pointer: '/rules/1/pattern', message: expect.any(String) },
    ]);
  });

  test('the regex filter names sub-checks after rules', () => {
    const filter = createRegexFilter();
    const matches = filter.scan('ticket TCK-1234 and TCK-99', { rules: [{ name: 'ticket', pattern: 'TCK-\\d{4}' }] });
    expect(matches).toEqual([{ entity: 'ticket', start: 7, end: 15, replacement: '[TICKET]' }]);
  });
});

describe('regex rule bounds', () => {
  test('a rule that expands past the automaton bound is rejected at validation', () => {
    expect(validateRegexParams({ rules: [{ name: 'huge', pattern: '(?:a{1000}){50}' }] })[0].message).toMatch(/too large/);
  });
});
