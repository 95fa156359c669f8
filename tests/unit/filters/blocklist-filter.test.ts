import { createBlocklistFilter } from '../../../src/safety/filters/blocklist-filter';
import { normalizeForMatching } from '../../../src/safety/text/normalize-for-matching';

const filter = createBlocklistFilter();
const params = { terms: ['badword', 'forbidden phrase', 'kill'], allow: ['kill switch'] };
const found = (text: string, options: Record<string, unknown> = params) =>
  filter.scan(text, options).map((match) => text.slice(match.start, match.end));

describe('normalizeForMatching', () => {
  test('folds case, width, diacritics, homoglyphs, leetspeak, spacing and invisibles', () => {
    expect(normalizeForMatching('ＢＡＤ').text).toBe('bad');
    expect(normalizeForMatching('bädwörd').text).toBe('badword');
    expect(normalizeForMatching('bаdword').text).toBe('badword'); // Cyrillic а
    expect(normalizeForMatching('b4dw0rd').text).toBe('badword');
    expect(normalizeForMatching('b a d').text).toBe('bad');
    expect(normalizeForMatching('b.a.d').text).toBe('bad');
    expect(normalizeForMatching('bad\u200Bword').text).toBe('badword');
    expect(normalizeForMatching('a  \n b').text).toBe('a b');
  });

  test('keeps a map back to the original text', () => {
    const normalized = normalizeForMatching('xx b\u200B a d yy');
    expect(normalized.text).toBe('xx bad yy');
    expect(normalized.starts[3]).toBe(3);
    expect(normalized.ends[5]).toBe(9);
  });

  test('leaves numbers and punctuation alone', () => {
    expect(normalizeForMatching('In 2024, 3 items!').text).toBe('in 2024, 3 items!');
  });
});

describe('blocklist filter', () => {
  test.each([
    ['plain', 'this is a badword here', 'badword'],
    ['upper case', 'BADWORD!', 'BADWORD'],
    ['leetspeak', 'a b4dw0rd', 'b4dw0rd'],
    ['homoglyph', 'bаdwоrd', 'bаdwоrd'],
    ['spacing trick', 'say b a d w o r d now', 'b a d w o r d'],
    ['dotted', 'k.i.l.l them', 'k.i.l.l'],
    ['zero-width', 'bad\u200Bword', 'bad\u200Bword'],
    ['fullwidth', 'ｂａｄｗｏｒｄ', 'ｂａｄｗｏｒｄ'],
    ['multi-word phrase across newline', 'a forbidden\nphrase', 'forbidden\nphrase'],
  ])('%s', (_name, text, expected) => {
    expect(found(text)).toEqual([expected]);
  });

  test.each([
    ['substring of a longer word', 'skill and killer instincts'],
    ['allowlisted phrase', 'press the kill switch'],
    ['unrelated', 'a good word'],
  ])('no match: %s', (_name, text) => {
    expect(found(text)).toEqual([]);
  });

  test('whole_word false finds substrings', () => {
    expect(found('skill', { terms: ['kill'], whole_word: false })).toEqual(['kill']);
  });

  test('replacement text', () => {
    expect(filter.scan('badword', { terms: ['badword'], replacement: '***' })[0].replacement).toBe('***');
  });
});
