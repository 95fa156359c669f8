/**
 * createVoteCheck: the `vote` output check for short answers (self-consistency voting, Wang et al. 2022).
 * The output and the samples (the caller's, or `samples` drawn at `temperature`) vote; the score is the
 * share of all answers that agree with the output's normalised answer (1 = everyone agrees; the policy
 * fires below its threshold). `details`: `majority_answer`, `vote_share` (the majority's share),
 * `output_votes`, `output_is_majority`, `counts`, and `most_consistent_sample` (the majority answer, index
 * −1 when it is the output's) for the regenerate action. Cannot draw samples → throws (fail closed).
 */
import type { DetectorResult, OutputCheckContext } from '../detector';
import { normalizeAnswer, voteAnswers } from '../consistency/vote-answers';
import { numberParam, obtainSamples, type ConsistencyOutputCheck } from './consistency-output-check';

export const VOTE_PARAMS_SCHEMA = {
  type: 'object',
  properties: {
    samples: { type: 'integer', minimum: 1, maximum: 64, default: 5 },
    temperature: { type: 'number', minimum: 0, maximum: 2, default: 1 },
  },
} as const;

export function createVoteCheck(): ConsistencyOutputCheck {
  return {
    id: 'vote',
    version: '1',
    mode: 'final',
    firesBelow: true,
    firesWhen: 'below',
    paramsSchema: VOTE_PARAMS_SCHEMA,
    async check(output: string, context: OutputCheckContext): Promise<DetectorResult[]> {
      const params = context.params ?? {};
      const samples = await obtainSamples('vote', context, numberParam(params, 'samples', 5, 1, 64), numberParam(params, 'temperature', 1, 0, 2));
      const answers = [output, ...samples];
      const result = voteAnswers(answers);
      const own = normalizeAnswer(output);
      const outputVotes = result.counts.find((entry) => entry.normalized === own)?.votes ?? 0;
      const score = outputVotes / answers.length;
      const majorityIndex = answers.findIndex((answer) => normalizeAnswer(answer) === result.normalized);
      return [
        {
          score,
          explanation: `${outputVotes} of ${answers.length} answers agree with the output; majority "${result.answer ?? ''}" has ${result.votes} vote(s)`,
          details: {
            majority_answer: result.answer ?? null,
            vote_share: result.share,
            output_votes: outputVotes,
            output_is_majority: own !== '' && own === result.normalized,
            counts: result.counts,
            samples: samples.length,
            most_consistent_sample: majorityIndex < 0 ? null : { index: majorityIndex - 1, text: answers[majorityIndex], score: result.share },
          },
        },
      ];
    },
  };
}
