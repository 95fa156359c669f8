/**
 * createSelfConsistencyCheck: the `self_consistency` output check (SelfCheckGPT). It takes the caller's
 * samples or draws `samples` more (at `temperature`) through `context.drawSamples`, scores every sentence
 * of the output against them, and returns the passage consistency score (1 = supported; the policy fires
 * when it is below the threshold). `details` carries `passage_score`, `sentences: [{text, score, span}]`
 * (what the response's `consistency` object is built from), the variant and the sample count; `spans` are
 * the sentences scoring below `sentence_threshold`. `details.most_consistent_sample` — the candidate (a
 * sample, or the output itself with index −1) that the others support best, for the regenerate action —
 * is computed when `select_best` is true; by default it is on when the samples were drawn here (the
 * generation path, where sampling dominates the cost) with a lexical variant, and off on `/v1/check`
 * (caller samples) and for nli (candidates × sentences × samples model calls). Cannot draw samples → throws.
 */
import type { DetectorResult, OutputCheckContext } from '../detector';
import { GatewayError } from '../../errors/gateway-error';
import { CONSISTENCY_VARIANTS, scoreConsistency, type ConsistencyResult, type ConsistencyVariant } from '../consistency/self-consistency';
import { selectMostConsistent, type MostConsistentSample } from '../consistency/select-most-consistent';
import type { NliModel } from '../consistency/nli-model';
import { numberParam, obtainSamplesWithOrigin, type ConsistencyOutputCheck } from './consistency-output-check';

export interface SelfConsistencyCheckOptions {
  /** Loads the NLI model on first use of the `nli` variant; absent = the variant is unavailable. */
  loadNli?: () => Promise<NliModel>;
}

/** The scoring half of the check (after the samples are in hand): plain data in, plain data out. */
export interface ConsistencyScoringTask {
  output: string;
  samples: string[];
  variant: Exclude<ConsistencyVariant, 'nli'>;
  ngramN: number;
  selectBest: boolean;
}

export interface ConsistencyScoring {
  result: ConsistencyResult;
  mostConsistent?: MostConsistentSample;
}

/**
 * A context the engine may pass: `offloadScoring` takes the lexical scoring of a task elsewhere (a worker
 * thread) and returns its promise, or undefined to have it done here (small work). Never used for nli.
 */
export interface SelfConsistencyContext extends OutputCheckContext {
  offloadScoring?(task: ConsistencyScoringTask): Promise<ConsistencyScoring> | undefined;
}

/** Scores a lexical task on this thread (what a worker runs for an offloaded task). */
export async function scoreConsistencyTask(task: ConsistencyScoringTask, signal?: AbortSignal): Promise<ConsistencyScoring> {
  const options = { variant: task.variant, ngramN: task.ngramN, signal };
  const result = await scoreConsistency({ passage: task.output, samples: task.samples }, options);
  if (!task.selectBest) return { result };
  return { result, mostConsistent: await selectMostConsistent(task.output, task.samples, options) };
}

export const SELF_CONSISTENCY_PARAMS_SCHEMA = {
  type: 'object',
  properties: {
    samples: { type: 'integer', minimum: 1, maximum: 64, default: 4 },
    temperature: { type: 'number', minimum: 0, maximum: 2, default: 1 },
    variant: { enum: [...CONSISTENCY_VARIANTS], default: 'unigram-max' },
    ngram_n: { type: 'integer', minimum: 1, maximum: 8, default: 2 },
    sentence_threshold: { type: 'number', minimum: 0, maximum: 1, default: 0.5 },
    select_best: { type: 'boolean' },
  },
} as const;

export function createSelfConsistencyCheck(options: SelfConsistencyCheckOptions = {}): ConsistencyOutputCheck {
  return {
    id: 'self_consistency',
    version: '1',
    mode: 'final',
    firesBelow: true,
    firesWhen: 'below',
    paramsSchema: SELF_CONSISTENCY_PARAMS_SCHEMA,
    async check(output: string, context: OutputCheckContext): Promise<DetectorResult[]> {
      const params = context.params ?? {};
      const variant = (params.variant ?? 'unigram-max') as ConsistencyVariant;
      if (!CONSISTENCY_VARIANTS.includes(variant)) throw new GatewayError('policy_invalid', `unknown self_consistency variant '${String(variant)}'`);
      const count = numberParam(params, 'samples', 4, 1, 64);
      const temperature = numberParam(params, 'temperature', 1, 0, 2);
      const ngramN = numberParam(params, 'ngram_n', 2, 1, 8);
      const sentenceThreshold = numberParam(params, 'sentence_threshold', 0.5, 0, 1);
      let nli: NliModel | undefined;
      if (variant === 'nli') {
        if (!options.loadNli) throw new GatewayError('unavailable', 'self_consistency variant nli needs an NLI model; none is configured');
        nli = await options.loadNli();
      }
      const { samples, drawn } = await obtainSamplesWithOrigin('self_consistency', context, count, temperature);
      const selectBest = typeof params.select_best === 'boolean' ? params.select_best : drawn && variant !== 'nli';
      let scoring: ConsistencyScoring;
      if (variant === 'nli') {
        const result = await scoreConsistency({ passage: output, samples }, { variant, ngramN, nli, signal: context.signal });
        scoring = { result, ...(selectBest ? { mostConsistent: await selectMostConsistent(output, samples, { variant, ngramN, nli, signal: context.signal }) } : {}) };
      } else {
        const task: ConsistencyScoringTask = { output, samples, variant, ngramN, selectBest };
        scoring = await ((context as SelfConsistencyContext).offloadScoring?.(task) ?? scoreConsistencyTask(task, context.signal));
      }
      const { result } = scoring;
      const weak = result.sentences.filter((sentence) => sentence.score < sentenceThreshold);
      const details: Record<string, unknown> = {
        variant,
        samples: samples.length,
        passage_score: result.passageScore,
        passage_raw: result.passageRaw,
        sentences: result.sentences.map((sentence) => ({ text: sentence.text, score: sentence.score, span: sentence.span ?? null, raw: sentence.raw })),
      };
      if (scoring.mostConsistent) details.most_consistent_sample = scoring.mostConsistent;
      return [
        {
          score: result.passageScore,
          explanation:
            `passage consistency ${result.passageScore.toFixed(3)} over ${samples.length} sample(s) (${variant}); ` +
            `${weak.length} of ${result.sentences.length} sentence(s) below ${sentenceThreshold}`,
          spans: weak.flatMap((sentence) => (sentence.span ? [sentence.span] : [])),
          details,
        },
      ];
    },
  };
}
