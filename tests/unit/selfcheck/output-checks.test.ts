/**
 * The self_consistency, vote and grounding OutputChecks as the pipeline calls them: samples from the
 * caller or drawn through context.drawSamples, the details the response's `consistency` object is built
 * from, `firesBelow`, and failing closed (a throw, never a pass) when samples or sources are missing.
 */
import type { OutputCheckContext } from '../../../src/safety/detector';
import { createBuiltinOutputChecks, createGroundingCheck, createSelfConsistencyCheck, createVoteCheck } from '../../../src/safety/checks';

function context(extra: Partial<OutputCheckContext> = {}): OutputCheckContext {
  return { role: 'prompt', params: {}, signal: new AbortController().signal, ...extra };
}

const output = 'Marie Curie was born in Warsaw. She won the Nobel Prize in Chemistry in 1911. She was married to the actor Leonardo DiCaprio.';
const samples = [
  'Marie Curie was born in Warsaw. She won the Nobel Prize in Chemistry in 1911. She was married to Pierre Curie.',
  'Born in Warsaw, Marie Curie won the Nobel Prize in Chemistry in 1911. Her husband was Pierre Curie.',
  'Marie Curie, born in Warsaw, married Pierre Curie and won the 1911 Nobel Prize in Chemistry.',
];

describe('createBuiltinOutputChecks', () => {
  it('returns the three checks, each declaring that it fires below the threshold', () => {
    const checks = createBuiltinOutputChecks({});
    expect(checks.map((check) => check.id)).toEqual(['self_consistency', 'vote', 'grounding']);
    for (const check of checks) {
      expect((check as { firesBelow?: boolean }).firesBelow).toBe(true);
      expect(check.firesWhen).toBe('below');
      expect(check.mode).toBe('final');
    }
  });
});

describe('self_consistency check', () => {
  it('draws the configured number of samples at the configured temperature and reports per-sentence scores', async () => {
    const calls: Array<[number, number]> = [];
    const drawSamples = async (count: number, temperature: number) => {
      calls.push([count, temperature]);
      return samples.slice(0, count);
    };
    const [result] = await createSelfConsistencyCheck().check(output, context({ params: { samples: 3, temperature: 0.7 }, drawSamples }));
    expect(calls).toEqual([[3, 0.7]]);
    const details = result.details as { passage_score: number; sentences: Array<{ text: string; score: number; span: [number, number] }>; samples: number; variant: string };
    expect(details.variant).toBe('unigram-max');
    expect(details.samples).toBe(3);
    expect(result.score).toBe(details.passage_score);
    expect(details.sentences).toHaveLength(3);
    expect(details.sentences[2].score).toBeLessThan(details.sentences[0].score);
    for (const sentence of details.sentences) expect(output.slice(sentence.span[0], sentence.span[1])).toBe(sentence.text);
    // The contradicted sentence is among the flagged spans.
    expect(result.spans).toContainEqual(details.sentences[2].span);
  });

  it('uses caller-supplied samples without drawing', async () => {
    const drawSamples = jest.fn();
    const [result] = await createSelfConsistencyCheck().check(output, context({ samples, drawSamples }));
    expect(drawSamples).not.toHaveBeenCalled();
    expect((result.details as { samples: number }).samples).toBe(3);
  });

  it('fails closed: throws when samples cannot be drawn or the backend returns none', async () => {
    const check = createSelfConsistencyCheck();
    await expect(check.check(output, context())).rejects.toMatchObject({ code: 'invalid_request' });
    await expect(check.check(output, context({ drawSamples: async () => [] }))).rejects.toMatchObject({ code: 'backend_error' });
    await expect(check.check(output, context({ drawSamples: async () => { throw new Error('backend down'); } }))).rejects.toThrow('backend down');
    await expect(check.check(output, context({ samples, params: { samples: 0 } }))).rejects.toMatchObject({ code: 'policy_invalid' });
  });

  it('offers the most consistent candidate for the regenerate action: by default when it drew the samples', async () => {
    const [supplied] = await createSelfConsistencyCheck().check(output, context({ samples }));
    expect(supplied.details).not.toHaveProperty('most_consistent_sample');
    const [result] = await createSelfConsistencyCheck().check(output, context({ drawSamples: async (count) => samples.slice(0, count), params: { samples: 3 } }));
    const best = (result.details as { most_consistent_sample: { index: number; text: string; score: number } }).most_consistent_sample;
    expect(best.index).toBeGreaterThanOrEqual(0);
    expect(best.text).toBe(samples[best.index]);
    expect(best.score).toBeGreaterThan(result.score);
  });
});

describe('vote check', () => {
  it('scores the share of answers agreeing with the output and names the majority', async () => {
    const [result] = await createVoteCheck().check('Lyon', context({ samples: ['Paris', 'paris.', 'Lyon', 'The Paris'] }));
    expect(result.score).toBeCloseTo(2 / 5, 12);
    expect(result.details).toMatchObject({ majority_answer: 'Paris', vote_share: 0.6, output_votes: 2, output_is_majority: false });
    expect((result.details as { most_consistent_sample: { index: number } }).most_consistent_sample.index).toBe(0);
  });

  it('throws without samples', async () => {
    await expect(createVoteCheck().check('Lyon', context())).rejects.toMatchObject({ code: 'invalid_request' });
  });
});

describe('grounding check', () => {
  const sources = ['Marie Curie was born in Warsaw in 1867. She won the Nobel Prize in Chemistry in 1911.'];

  it('reports unsupported numbers and names as spans and per-sentence details', async () => {
    const answer = 'Marie Curie was born in Warsaw in 1867. She won the Nobel Prize in Chemistry in 1912 with Albert Einstein.';
    const [result] = await createGroundingCheck().check(answer, context({ sources }));
    expect(result.spans!.map(([start, end]) => answer.slice(start, end))).toEqual(['1912', 'Albert Einstein']);
    const details = result.details as { grounded_sentences: Array<{ score: number }>; passage_score: number };
    expect(details.grounded_sentences[0].score).toBe(1);
    expect(details.grounded_sentences[1].score).toBeLessThan(1);
    expect(details).not.toHaveProperty('sentences');
    expect(result.score).toBe(details.passage_score);
    expect(result.explanation).toContain('Albert Einstein');
  });

  it('throws without context documents unless told to skip', async () => {
    await expect(createGroundingCheck().check('text', context())).rejects.toMatchObject({ code: 'invalid_request' });
    const [skipped] = await createGroundingCheck().check('text', context({ params: { when_no_context: 'skip' } }));
    expect(skipped.score).toBe(1);
    expect(skipped.explanation).toContain('skipped');
  });
});

describe('probeConsistency (helper for the demo-model test)', () => {
  it('scores a generator that repeats itself above one that makes things up, over seeded runs', async () => {
    const { probeConsistency } = await import('../../../src/safety/consistency/consistency-probe');
    const steady = async () => 'Dorothy lived in Kansas with Uncle Henry and Aunt Em.';
    const names = ['Zarquon', 'Blibbet', 'Quortle', 'Fennimax', 'Glorp', 'Yubbin', 'Wexley', 'Drumble', 'Snorv', 'Plinth', 'Krabble', 'Vonk'];
    const erratic = async (_prompt: string, seed: number) => `Dorothy lived in ${names[seed % names.length]} with ${names[(seed * 7 + 3) % names.length]}.`;
    const seeds = [1, 2, 3];
    const consistent = await probeConsistency(steady, ['Where did Dorothy live?'], { seeds, samples: 3 });
    const inconsistent = await probeConsistency(erratic, ['Where did Dorothy live?'], { seeds, samples: 3 });
    expect(consistent.prompts[0].scores).toHaveLength(3);
    expect(consistent.mean).toBeGreaterThan(inconsistent.mean);
  });
});
