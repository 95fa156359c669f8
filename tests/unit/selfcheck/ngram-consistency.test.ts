/**
 * SelfCheckGPT's n-gram model and the unigram/ngram consistency variants on small handmade examples:
 * the probabilities match the add-one formula, and a sentence the samples contradict scores worse than
 * one they support.
 */
import { NgramModel } from '../../../src/safety/consistency/ngram-model';
import { rawToConsistency, scoreNgramConsistency } from '../../../src/safety/consistency/ngram-consistency';
import { scoreConsistency } from '../../../src/safety/consistency/self-consistency';

describe('NgramModel', () => {
  it('computes add-one unigram probabilities with <unk> in the vocabulary, as the reference code', () => {
    const model = new NgramModel(1);
    model.add('Apple banana.');
    model.add('apple cherry.');
    model.train(1);
    // Counts: apple 2, banana 1, cherry 1, . 2, <unk> 0 → total 6, 5 types → D = 11.
    expect(model.normalizer).toBe(11);
    expect(model.probability('apple')).toBeCloseTo(3 / 11, 12);
    expect(model.probability('zebra')).toBeCloseTo(1 / 11, 12);
    const scores = model.evaluate(['apple banana.']);
    expect(scores.maximum[0]).toBeCloseTo(Math.log(11 / 2), 12);
    expect(scores.average[0]).toBeCloseTo((2 * Math.log(11 / 3) + Math.log(11 / 2)) / 3, 12);
  });

  it('counts left-padded n-grams, one per token', () => {
    const model = new NgramModel(2);
    model.add('Go on go on. Go.');
    model.train(1);
    // Sentence 1: (<s> go) (go on) (on go) (go on) (on .); sentence 2: (<s> go) (go .) → total 7;
    // types 5 + <unk> = 6 → D = 13.
    expect(model.normalizer).toBe(13);
    expect(model.ngramsOf('go on')).toEqual(['<s>\u0001go', 'go\u0001on']);
    expect(model.probability('go\u0001on')).toBeCloseTo(3 / 13, 12);
    expect(model.probability('<s>\u0001go')).toBeCloseTo(3 / 13, 12);
    expect(() => new NgramModel(0)).toThrow(RangeError);
  });
});

const passage =
  'Marie Curie was a physicist and chemist born in Warsaw. She won the Nobel Prize in Chemistry in 1911. She was married to the actor Leonardo DiCaprio.';
const samples = [
  'Marie Curie was a Polish physicist and chemist, born in Warsaw. She won the Nobel Prize in Chemistry in 1911. She was married to Pierre Curie.',
  'Marie Curie, born in Warsaw, was a physicist and chemist. In 1911 she won the Nobel Prize in Chemistry. Her husband was the physicist Pierre Curie.',
  'Born in Warsaw, Marie Curie was a chemist and physicist who won the Nobel Prize in Chemistry in 1911. She married Pierre Curie in 1895.',
];

describe('unigram and ngram consistency', () => {
  it.each([
    ['unigram-max', {}],
    ['unigram-avg', {}],
    ['ngram', { ngramN: 2, ngramAggregation: 'avg' }],
    ['ngram', { ngramN: 3, ngramAggregation: 'avg' }],
  ] as const)('%s %o: the contradicted sentence scores worse than the supported ones', async (variant, extra) => {
    const result = await scoreConsistency({ passage, samples }, { variant, ...extra });
    expect(result.sentences).toHaveLength(3);
    const [born, prize, married] = result.sentences;
    expect(married.score).toBeLessThan(born.score);
    expect(married.score).toBeLessThan(prize.score);
    expect(married.raw).toBeGreaterThan(born.raw);
    expect(married.raw).toBeGreaterThan(prize.raw);
    for (const sentence of result.sentences) {
      expect(sentence.score).toBeGreaterThanOrEqual(0);
      expect(sentence.score).toBeLessThanOrEqual(1);
      expect(passage.slice(sentence.span![0], sentence.span![1])).toBe(sentence.text);
    }
    expect(result.passageScore).toBeCloseTo(result.sentences.reduce((sum, sentence) => sum + sentence.score, 0) / 3, 12);
  });

  it('unigram-max names the least supported word and maps the raw score as documented', () => {
    const result = scoreNgramConsistency([`She was married to the actor Leonardo DiCaprio.`], passage, samples, { n: 1, aggregation: 'max' });
    expect(['actor', 'leonardo', 'dicaprio']).toContain(result.weakest[0]);
    // A word only the answer uses (smoothed count 2) maps to 0; one also in every sample once (N + 2) to 1.
    const denominator = 1000;
    expect(rawToConsistency(-Math.log(2 / denominator), denominator, 3, 'max')).toBeCloseTo(0, 12);
    expect(rawToConsistency(-Math.log(5 / denominator), denominator, 3, 'max')).toBeCloseTo(1, 12);
    expect(rawToConsistency(-Math.log(50 / denominator), denominator, 3, 'max')).toBe(1);
    expect(rawToConsistency(-Math.log(1 / denominator), denominator, 3, 'avg')).toBe(0);
  });

  it('a sentence whose rarest word no sample uses scores 0 under unigram-max', async () => {
    const result = await scoreConsistency({ passage: 'Marie Curie was born in Warsaw. She adored zeppelins.', samples }, { variant: 'unigram-max' });
    expect(result.sentences[1].score).toBe(0);
    expect(result.sentences[0].score).toBeGreaterThan(0);
  });

  it('refuses to score without samples or with an unknown variant, and bounds the input', async () => {
    await expect(scoreConsistency({ passage, samples: [] }, { variant: 'unigram-max' })).rejects.toMatchObject({ code: 'invalid_request' });
    await expect(scoreConsistency({ passage, samples }, { variant: 'nli' })).rejects.toMatchObject({ code: 'unavailable' });
    await expect(scoreConsistency({ passage, samples }, { variant: 'bogus' as never })).rejects.toMatchObject({ code: 'invalid_request' });
    await expect(scoreConsistency({ passage: 'x'.repeat(200_001), samples }, { variant: 'unigram-max' })).rejects.toMatchObject({ code: 'payload_too_large' });
    await expect(scoreConsistency({ passage, samples: new Array(65).fill('a') }, { variant: 'unigram-max' })).rejects.toMatchObject({ code: 'invalid_request' });
  });
});
