/**
 * `rein eval selfcheck --data FILE.json [--samples N] [--variant unigram-max|unigram-avg|ngram|nli]
 * [--ngram-n N] [--nli-model DIR] [--calibrate FILE] [--out FILE]` — sentence-level hallucination detection quality on
 * SelfCheckGPT-style data (SPEC.md §6): NonFact, NonFact* and Factual AUC-PR (sklearn's
 * precision_recall_curve + auc, in percent) and passage-level Pearson/Spearman (in percent).
 * The first N samples of each passage are used (default: all). Each sentence is ranked by the variant's
 * raw hallucination score (unigram/ngram: the paper's max or mean −log p; nli: mean P(contradiction)).
 * `--calibrate FILE` also writes threshold calibration for the checks' consistency scores (which fire when
 * score < threshold): thresholds chosen on the first half of the passages (Youden's J), TPR/FPR/precision
 * reported on the second half, for sentences (non-factual = positive) and passages (human mean > 0.5).
 * Exits 0 once the results are written, whatever the figures; 2 on bad arguments or unreadable data.
 */
import fs from 'node:fs';
import { ArgError, parseArgs } from '../../cli/args';
import { parseJson } from '../../util/parse-json';
import { aucPr, pearson, spearman } from '../consistency/classification-metrics';
import { CONSISTENCY_VARIANTS, scoreConsistency, type ConsistencyVariant } from '../consistency/self-consistency';
import { loadNliModel, type NliModel } from '../consistency/nli-model';
import { calibrateThreshold, evaluateThreshold, type ThresholdOutcome } from '../consistency/threshold-calibration';

export type Annotation = 'accurate' | 'minor_inaccurate' | 'major_inaccurate';

export interface SelfcheckPassage {
  id: string | number;
  passage: string;
  sentences: string[];
  annotation: Annotation[];
  samples: string[];
}

export interface SelfcheckReport {
  passages: number;
  sentences: number;
  variant: ConsistencyVariant;
  samples: number;
  auc_pr: { nonfact: number; nonfact_star: number; factual: number };
  pearson: number;
  spearman: number;
}

const ANNOTATION_VALUE: Record<Annotation, number> = { accurate: 0, minor_inaccurate: 0.5, major_inaccurate: 1 };

/** Validates the data file's shape; throws with the first problem found. */
export function parseSelfcheckData(text: string): SelfcheckPassage[] {
  const parsed = parseJson<unknown>(text);
  if (!parsed.ok) throw new Error(`data is not JSON: ${parsed.error}`);
  if (!Array.isArray(parsed.value)) throw new Error('data must be a JSON array of passages');
  return parsed.value.map((item, index) => {
    const passage = item as Partial<SelfcheckPassage>;
    const where = `passage ${index}`;
    if (typeof passage.passage !== 'string') throw new Error(`${where}: passage must be a string`);
    if (!Array.isArray(passage.sentences) || !passage.sentences.every((s) => typeof s === 'string')) throw new Error(`${where}: sentences must be strings`);
    if (!Array.isArray(passage.annotation) || passage.annotation.length !== passage.sentences.length) throw new Error(`${where}: annotation must match sentences`);
    for (const label of passage.annotation) if (!(label in ANNOTATION_VALUE)) throw new Error(`${where}: unknown annotation '${String(label)}'`);
    if (!Array.isArray(passage.samples) || !passage.samples.every((s) => typeof s === 'string')) throw new Error(`${where}: samples must be strings`);
    return { id: passage.id ?? index, passage: passage.passage, sentences: passage.sentences, annotation: passage.annotation, samples: passage.samples };
  });
}

export interface ScoreOptions {
  samples?: number;
  ngramN?: number;
  nli?: NliModel;
}

/** Per passage, per sentence: the raw hallucination score and the [0, 1] consistency score. */
export async function scorePassagesDetailed(
  passages: readonly SelfcheckPassage[],
  variant: ConsistencyVariant,
  options: ScoreOptions = {},
): Promise<Array<{ raw: number[]; scores: number[] }>> {
  const result: Array<{ raw: number[]; scores: number[] }> = [];
  for (const passage of passages) {
    const samples = options.samples === undefined ? passage.samples : passage.samples.slice(0, options.samples);
    const scored = await scoreConsistency(
      { passage: passage.passage, sentences: passage.sentences, samples },
      { variant, ngramN: options.ngramN, nli: options.nli },
    );
    result.push({ raw: scored.sentences.map((sentence) => sentence.raw), scores: scored.sentences.map((sentence) => sentence.score) });
  }
  return result;
}

/** Per-sentence raw hallucination scores for each passage (higher = more likely made up). */
export async function scorePassages(passages: readonly SelfcheckPassage[], variant: ConsistencyVariant, options: ScoreOptions = {}): Promise<number[][]> {
  return (await scorePassagesDetailed(passages, variant, options)).map((passage) => passage.raw);
}

export interface CalibrationReport {
  variant: ConsistencyVariant;
  samples: number;
  split: { calibration_passages: number; heldout_passages: number };
  sentence: { threshold: number; calibration: Omit<ThresholdOutcome, 'threshold'>; heldout: Omit<ThresholdOutcome, 'threshold'> };
  passage: { threshold: number; calibration: Omit<ThresholdOutcome, 'threshold'>; heldout: Omit<ThresholdOutcome, 'threshold'> };
}

function withoutThreshold(outcome: ThresholdOutcome): Omit<ThresholdOutcome, 'threshold'> {
  const { threshold: _threshold, ...rest } = outcome;
  return rest;
}

/**
 * Thresholds for the consistency scores chosen on the first half of the passages and evaluated on the
 * second: sentences (positive = minor or major inaccurate) and passages (positive = human mean > 0.5;
 * the passage score is the mean sentence score, as the check reports it).
 */
export function calibrateSelfcheck(
  passages: readonly SelfcheckPassage[],
  scores: ReadonlyArray<{ scores: number[] }>,
  variant: ConsistencyVariant,
  samples: number,
): CalibrationReport {
  const half = Math.ceil(passages.length / 2);
  const collect = (from: number, to: number) => {
    const sentenceLabels: number[] = [];
    const sentenceScores: number[] = [];
    const passageLabels: number[] = [];
    const passageScores: number[] = [];
    for (let i = from; i < to; i++) {
      const values = passages[i].annotation.map((label) => ANNOTATION_VALUE[label]);
      values.forEach((value, j) => {
        sentenceLabels.push(value > 0.499 ? 1 : 0);
        sentenceScores.push(scores[i].scores[j]);
      });
      passageLabels.push(values.reduce((sum, value) => sum + value, 0) / values.length > 0.5 ? 1 : 0);
      passageScores.push(scores[i].scores.reduce((sum, value) => sum + value, 0) / Math.max(1, scores[i].scores.length));
    }
    return { sentenceLabels, sentenceScores, passageLabels, passageScores };
  };
  const calibration = collect(0, half);
  const heldout = collect(half, passages.length);
  const sentence = calibrateThreshold(calibration.sentenceLabels, calibration.sentenceScores);
  const passage = calibrateThreshold(calibration.passageLabels, calibration.passageScores);
  return {
    variant,
    samples,
    split: { calibration_passages: half, heldout_passages: passages.length - half },
    sentence: {
      threshold: sentence.threshold,
      calibration: withoutThreshold(sentence),
      heldout: withoutThreshold(evaluateThreshold(heldout.sentenceLabels, heldout.sentenceScores, sentence.threshold)),
    },
    passage: {
      threshold: passage.threshold,
      calibration: withoutThreshold(passage),
      heldout: withoutThreshold(evaluateThreshold(heldout.passageLabels, heldout.passageScores, passage.threshold)),
    },
  };
}

function round(value: number): number {
  return Math.round(value * 10000) / 100;
}

/** The SPEC.md §6 figures from per-sentence raw hallucination scores. */
export function computeSelfcheckReport(
  passages: readonly SelfcheckPassage[],
  raw: readonly number[][],
  variant: ConsistencyVariant,
  samples: number,
): SelfcheckReport {
  const nonfactLabels: number[] = [];
  const factualLabels: number[] = [];
  const scores: number[] = [];
  const starLabels: number[] = [];
  const starScores: number[] = [];
  const human: number[] = [];
  const predicted: number[] = [];
  passages.forEach((passage, index) => {
    const values = passage.annotation.map((label) => ANNOTATION_VALUE[label]);
    const sentenceScores = raw[index];
    values.forEach((value, i) => {
      nonfactLabels.push(value > 0.499 ? 1 : 0);
      factualLabels.push(value < 0.499 ? 1 : 0);
      scores.push(sentenceScores[i]);
    });
    const mean = values.reduce((sum, value) => sum + value, 0) / values.length;
    if (mean < 0.99) {
      values.forEach((value, i) => {
        starLabels.push(value > 0.99 ? 1 : 0);
        starScores.push(sentenceScores[i]);
      });
    }
    human.push(mean);
    predicted.push(sentenceScores.reduce((sum, value) => sum + value, 0) / sentenceScores.length);
  });
  return {
    passages: passages.length,
    sentences: scores.length,
    variant,
    samples,
    auc_pr: {
      nonfact: round(aucPr(nonfactLabels, scores)),
      nonfact_star: round(aucPr(starLabels, starScores)),
      // Factual ranks by the consistency direction: the negated raw hallucination score.
      factual: round(aucPr(factualLabels, scores.map((value) => -value))),
    },
    pearson: round(pearson(human, predicted)),
    spearman: round(spearman(human, predicted)),
  };
}

export async function run(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseArgs(argv, { strings: ['data', 'samples', 'variant', 'out', 'ngram-n', 'nli-model', 'calibrate'] });
  } catch (error) {
    if (error instanceof ArgError) {
      process.stderr.write(`rein eval selfcheck: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
  const usage = 'usage: rein eval selfcheck --data FILE.json [--samples N] [--variant unigram-max|unigram-avg|ngram|nli] [--ngram-n N] [--nli-model DIR] [--calibrate FILE] [--out FILE]\n';
  const dataPath = args.values.data;
  if (!dataPath) {
    process.stderr.write(`rein eval selfcheck: --data is required\n${usage}`);
    return 2;
  }
  const variant = (args.values.variant ?? 'unigram-max') as ConsistencyVariant;
  if (!CONSISTENCY_VARIANTS.includes(variant)) {
    process.stderr.write(`rein eval selfcheck: unknown --variant '${variant}'\n${usage}`);
    return 2;
  }
  const sampleCount = args.values.samples === undefined ? undefined : Number(args.values.samples);
  if (sampleCount !== undefined && (!Number.isInteger(sampleCount) || sampleCount < 1)) {
    process.stderr.write('rein eval selfcheck: --samples must be a positive integer\n');
    return 2;
  }
  const ngramN = args.values['ngram-n'] === undefined ? undefined : Number(args.values['ngram-n']);
  if (ngramN !== undefined && (!Number.isInteger(ngramN) || ngramN < 1 || ngramN > 8)) {
    process.stderr.write('rein eval selfcheck: --ngram-n must be an integer in [1, 8]\n');
    return 2;
  }
  const nliDir = args.values['nli-model'] ?? process.env.REIN_NLI_MODEL;
  if (variant === 'nli' && !nliDir) {
    process.stderr.write('rein eval selfcheck: --variant nli needs --nli-model DIR (tokenizer.json + model.onnx) or REIN_NLI_MODEL\n');
    return 2;
  }
  let passages: SelfcheckPassage[];
  try {
    passages = parseSelfcheckData(fs.readFileSync(dataPath, 'utf8'));
  } catch (error) {
    process.stderr.write(`rein eval selfcheck: cannot read ${dataPath}: ${(error as Error).message}\n`);
    return 2;
  }
  const nli = variant === 'nli' && nliDir ? await loadNliModel(nliDir) : undefined;
  const scored = await scorePassagesDetailed(passages, variant, { samples: sampleCount, ngramN, nli });
  const available = Math.max(0, ...passages.map((passage) => passage.samples.length));
  const usedSamples = Math.min(sampleCount ?? available, available);
  const report = computeSelfcheckReport(passages, scored.map((passage) => passage.raw), variant, usedSamples);
  if (args.values.calibrate) {
    fs.writeFileSync(args.values.calibrate, `${JSON.stringify(calibrateSelfcheck(passages, scored, variant, usedSamples), null, 2)}\n`);
  }
  const text = `${JSON.stringify(report)}\n`;
  if (args.values.out) fs.writeFileSync(args.values.out, text);
  process.stdout.write(text);
  return 0;
}
