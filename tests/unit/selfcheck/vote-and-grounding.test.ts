/**
 * Answer voting (normalisation, majority, share, ties) and grounding against context documents
 * (unsupported numbers and names reported with spans into the answer).
 */
import { normalizeAnswer, voteAnswers } from '../../../src/safety/consistency/vote-answers';
import { findEntities, groundAnswer } from '../../../src/safety/consistency/grounding';

describe('voteAnswers', () => {
  it('normalises case, punctuation, articles, thousands separators and answer labels', () => {
    expect(normalizeAnswer('The Eiffel Tower.')).toBe('eiffel tower');
    expect(normalizeAnswer('Answer: 1,000')).toBe('1000');
    expect(normalizeAnswer('3.0')).toBe('3');
    expect(normalizeAnswer('3.14')).toBe('3.14');
    expect(normalizeAnswer('U.S.A.')).toBe('usa');
  });

  it('returns the majority answer and its vote share', () => {
    const result = voteAnswers(['Paris', 'paris.', 'Lyon', 'The Paris', 'Lyon']);
    expect(result).toMatchObject({ answer: 'Paris', normalized: 'paris', votes: 3, total: 5, share: 0.6 });
    expect(result.counts).toEqual([
      { normalized: 'paris', answer: 'Paris', votes: 3 },
      { normalized: 'lyon', answer: 'Lyon', votes: 2 },
    ]);
  });

  it('breaks ties by first appearance and counts empty answers in the total only', () => {
    const result = voteAnswers(['', 'blue', 'red', 'Red', 'BLUE', '...']);
    expect(result.answer).toBe('blue');
    expect(result.share).toBeCloseTo(2 / 6, 12);
    expect(voteAnswers([])).toMatchObject({ answer: undefined, share: 0, total: 0 });
  });
});

describe('groundAnswer', () => {
  const sources = [
    'Marie Curie (born 7 November 1867 in Warsaw) was a physicist. In 1903 she shared the Nobel Prize in Physics with Pierre Curie. She became a professor at the University of Paris in 1906.',
  ];
  const answer = 'Marie Curie was born in Warsaw in 1867. She won the Nobel Prize in Physics in 1904 with Albert Einstein. The University of Paris hired her in 1906.';

  it('flags an unsupported number and name with spans into the answer', async () => {
    const result = await groundAnswer(answer, sources);
    expect(result.unsupported.map((issue) => [issue.type, issue.text])).toEqual([
      ['number', '1904'],
      ['entity', 'Albert Einstein'],
    ]);
    for (const issue of result.unsupported) expect(answer.slice(issue.span[0], issue.span[1])).toBe(issue.text);
    const [first, second, third] = result.sentences;
    expect(first.score).toBe(1);
    expect(first.unsupported).toEqual([]);
    // Key items: Nobel Prize, Physics, 1904, Albert Einstein — two of the four are unsupported.
    expect(second.keyFraction).toBeCloseTo(2 / 4, 12);
    expect(second.score).toBeLessThan(third.score);
    expect(third.unsupported).toEqual([]);
    expect(result.passageScore).toBeCloseTo((first.score + second.score + third.score) / 3, 12);
  });

  it('finds multi-word names and skips ordinary sentence-initial capitals', () => {
    expect(findEntities('She studied at the University of Paris with Pierre Curie.').map((entity) => entity.text)).toEqual(['University of Paris', 'Pierre Curie']);
    expect(findEntities('During the war NASA grew.').map((entity) => entity.text)).toEqual(['NASA']);
    expect(findEntities('The Beatles played.').map((entity) => entity.text)).toEqual(['Beatles']);
  });

  it('accepts "1,000" for "1000" and fails closed without sources', async () => {
    const result = await groundAnswer('It cost 1,000 dollars.', ['The price was 1000 dollars.']);
    expect(result.unsupported).toEqual([]);
    await expect(groundAnswer('x', [])).rejects.toMatchObject({ code: 'invalid_request' });
  });
});
