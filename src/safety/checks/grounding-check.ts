/**
 * createGroundingCheck: the `grounding` output check — each sentence's support in the request's context
 * documents (see consistency/grounding.ts). The score is the passage support (1 = fully supported; the
 * policy fires below its threshold); `spans` are the unsupported numbers and names in the output;
 * `details`: `passage_score`, `grounded_sentences: [{text, score, span, coverage, unsupported}]`,
 * `unsupported` (named `grounded_sentences`, not `sentences`, so that it is never mistaken for the
 * self_consistency report the response's `consistency` object is built from).
 * No context documents: throws (fail closed) unless the policy sets `when_no_context: skip`, which passes
 * with score 1 and says so. Uses the NLI model when one is configured and `nli` is not false.
 */
import type { DetectorResult, OutputCheckContext } from '../detector';
import { GatewayError } from '../../errors/gateway-error';
import { groundAnswer } from '../consistency/grounding';
import type { NliModel } from '../consistency/nli-model';
import type { ConsistencyOutputCheck } from './consistency-output-check';

export interface GroundingCheckOptions {
  loadNli?: () => Promise<NliModel>;
}

export const GROUNDING_PARAMS_SCHEMA = {
  type: 'object',
  properties: {
    nli: { type: 'boolean', default: true },
    when_no_context: { enum: ['error', 'skip'], default: 'error' },
  },
} as const;

export function createGroundingCheck(options: GroundingCheckOptions = {}): ConsistencyOutputCheck {
  return {
    id: 'grounding',
    version: '1',
    mode: 'final',
    firesBelow: true,
    firesWhen: 'below',
    paramsSchema: GROUNDING_PARAMS_SCHEMA,
    async check(output: string, context: OutputCheckContext): Promise<DetectorResult[]> {
      const params = context.params ?? {};
      const sources = context.sources ?? [];
      if (sources.length === 0) {
        if (params.when_no_context === 'skip') return [{ score: 1, explanation: 'no context documents: grounding skipped (when_no_context: skip)' }];
        throw new GatewayError('invalid_request', 'grounding needs context documents; none were supplied');
      }
      const nli = options.loadNli && params.nli !== false ? await options.loadNli() : undefined;
      const result = await groundAnswer(output, sources, { nli, signal: context.signal });
      const weakest = result.sentences.reduce((low, sentence) => Math.min(low, sentence.score), 1);
      const listed = result.unsupported.slice(0, 10).map((issue) => `${issue.type} "${issue.text}"`);
      return [
        {
          score: result.passageScore,
          explanation:
            `grounding ${result.passageScore.toFixed(3)} over ${sources.length} document(s)${nli ? ' (with NLI)' : ''}; lowest sentence ${weakest.toFixed(3)}` +
            (listed.length > 0 ? `; unsupported: ${listed.join(', ')}${result.unsupported.length > 10 ? ', …' : ''}` : ''),
          spans: result.unsupported.map((issue) => issue.span),
          details: {
            passage_score: result.passageScore,
            grounded_sentences: result.sentences.map((sentence) => ({
              text: sentence.text,
              score: sentence.score,
              span: sentence.span,
              coverage: sentence.coverage,
              ...(sentence.entailment !== undefined ? { entailment: sentence.entailment } : {}),
              unsupported: sentence.unsupported,
            })),
            unsupported: result.unsupported,
          },
        },
      ];
    },
  };
}
