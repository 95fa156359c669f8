import { scanLength } from '../../../src/safety/filters/length-filter';
import { guessLanguage, scanLanguage } from '../../../src/safety/filters/language-filter';

describe('length filter', () => {
  test('characters, words and lines beyond the limit', () => {
    expect(scanLength('hello world', { max_chars: 5 })).toEqual([{ entity: 'max_chars', start: 5, end: 11, replacement: '' }]);
    expect(scanLength('one two three', { max_words: 2 })).toEqual([{ entity: 'max_words', start: 8, end: 13, replacement: '' }]);
    expect(scanLength('a\nb\nc', { max_lines: 2 })).toEqual([{ entity: 'max_lines', start: 3, end: 5, replacement: '' }]);
    expect(scanLength('short', { max_chars: 5, max_words: 1, max_lines: 1 })).toEqual([]);
  });
});

describe('language filter', () => {
  const english = 'The weather is nice today and I would like to go for a walk in the park with you.';
  const french = "Le temps est beau aujourd'hui et je voudrais aller me promener dans le parc avec vous.";
  const russian = 'Сегодня хорошая погода, и я хотел бы прогуляться по парку с тобой.';
  test('guesses by script and stop words', () => {
    expect(Object.entries(guessLanguage(english).shares).sort((a, b) => b[1] - a[1])[0][0]).toBe('en');
    expect(Object.entries(guessLanguage(french).shares).sort((a, b) => b[1] - a[1])[0][0]).toBe('fr');
    expect(guessLanguage(russian).shares.ru).toBe(1);
  });
  test('fires outside the allowed list only', () => {
    expect(scanLanguage(english, { allowed: ['en'] })).toEqual([]);
    expect(scanLanguage(russian, { allowed: ['en'] })[0]).toMatchObject({ entity: 'ru', score: 1 });
    expect(scanLanguage(french, { allowed: ['en'] })[0].entity).toBe('fr');
    expect(scanLanguage('ok', { allowed: ['en'] })).toEqual([]);
  });
});
