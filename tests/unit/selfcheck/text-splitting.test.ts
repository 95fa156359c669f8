/**
 * The sentence splitter (abbreviations, numbers, initials, line breaks, offsets) and the spaCy-like word
 * tokenizer the n-gram model counts.
 */
import { splitSentences } from '../../../src/safety/consistency/sentence-splitter';
import { tokenizeWords } from '../../../src/safety/consistency/word-tokenizer';

const texts = (text: string) => splitSentences(text).map((sentence) => sentence.text);

describe('splitSentences', () => {
  it('splits on sentence ends but not after titles, initials, abbreviations or inside numbers', () => {
    const text = 'Dr. J. R. R. Tolkien was born in 1892. He wrote e.g. "The Hobbit." It sold 3.5 million copies in the U.S. and abroad! Did it? Yes.';
    expect(texts(text)).toEqual([
      'Dr. J. R. R. Tolkien was born in 1892.',
      'He wrote e.g. "The Hobbit."',
      'It sold 3.5 million copies in the U.S. and abroad!',
      'Did it?',
      'Yes.',
    ]);
  });

  it('reports offsets that slice back to each sentence', () => {
    const text = '  First one.  Second (with a bracket). \n- a list item\nThird line without a stop';
    const sentences = splitSentences(text);
    expect(sentences.map((sentence) => sentence.text)).toEqual(['First one.', 'Second (with a bracket).', '- a list item', 'Third line without a stop']);
    for (const sentence of sentences) expect(text.slice(sentence.start, sentence.end)).toBe(sentence.text);
  });

  it('does not split before a lower-case word; a final "no." is a word, not an abbreviation', () => {
    expect(texts('He lived in St. Louis, Mo. and Jan. was cold. it was fine.')).toEqual(['He lived in St. Louis, Mo. and Jan. was cold. it was fine.']);
    expect(texts('The answer was no. Then he left.')).toEqual(['The answer was no.', 'Then he left.']);
  });

  it('splits a WikiBio-style passage into its sentences, and empty text into none', () => {
    const passage =
      'Noel Anthony Hogan (born 25 December 1971) is an Irish musician. He is best known as the lead guitarist of The Cranberries. Hogan formed the band in 1989.';
    expect(texts(passage)).toHaveLength(3);
    expect(splitSentences('')).toEqual([]);
  });
});

describe('tokenizeWords', () => {
  const words = (text: string) => tokenizeWords(text).map((token) => token.text);

  it('splits punctuation, clitics and infix hyphens like spaCy', () => {
    expect(words("He didn't go; it's Dr. Smith's well-known \"book\"...")).toEqual([
      'He', 'did', "n't", 'go', ';', 'it', "'s", 'Dr.', 'Smith', "'s", 'well', '-', 'known', '"', 'book', '"', '...',
    ]);
  });

  it('keeps numbers, dotted acronyms and initials whole', () => {
    expect(words('(1820–1876) cost $1,000.50 in the U.S. by J. Smith.')).toEqual([
      '(', '1820–1876', ')', 'cost', '$', '1,000.50', 'in', 'the', 'U.S.', 'by', 'J.', 'Smith', '.',
    ]);
  });

  it('gives offsets into the original text', () => {
    const text = ' state-of-the-art, ok';
    for (const token of tokenizeWords(text)) expect(text.slice(token.start, token.end)).toBe(token.text);
  });
});

describe('bounded work on pathological input', () => {
  it('tokenizes long punctuation runs and dotted strings by steps proportional to their length', () => {
    // Each of these took quadratic time in a naive suffix loop; here they are single tokens or short runs.
    const closers = `word${')'.repeat(100_000)}`;
    expect(tokenizeWords(closers)).toEqual([{ text: closers, start: 0, end: closers.length }]);
    const dotted = 'a.'.repeat(100);
    expect(tokenizeWords(dotted).map((token) => token.text).join('')).toBe(dotted);
    expect(splitSentences(`${'Go. '.repeat(50_000)}End.`).length).toBe(50_001);
  });
});
