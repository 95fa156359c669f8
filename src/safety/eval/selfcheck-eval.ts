/**
 * `rein eval selfcheck --data FILE.json [--samples N] [--variant unigram-max|unigram-avg|ngram|nli]
 * [--ngram-n N] [--nli-model DIR] [--out FILE]` — sentence-level hallucination detection quality on
 * SelfCheckGPT-style data (SPEC.md §6): NonFact, NonFact* and Factual AUC-PR (sklearn's
 * precision_recall_curve + auc, in percent) and passage-level Pearson/Spearman (in percent).
 * The first N samples of each passage are used (default: all). Each sentence is ranked by the variant's
 * raw hallucination score (unigram/ngram: the paper's max or mean −log p; nli: mean P(contradiction)).
 * Exits 0 once the results are written, whatever the figures; 2 on bad arguments or unreadable data.
 */
import fs from 'node:fs';
import { ArgError, parseArgs } from '../../cli/args';
import { parseJson } from '../../util/parse-json';
import { aucPr, pearson, spearman } from '../consistency/classification-metrics';
import { CONSISTENCY_VARIANTS, scoreConsistency, type ConsistencyVariant } from '../consistency/self-consistency';
import { loadNliModel, type NliModel } from '../consistency/nli-model';

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

/** Per-sentence raw hallucination scores for each passage (higher = more likely made up). */
export async function scorePassages(
  passages: readonly SelfcheckPassage[],
  variant: ConsistencyVariant,
  options: { samples?: number; ngramN?: number; nli?: NliModel } = {},
): Promise<number[][]> {
  const result: number[][] = [];
  for (const passage of passages) {
    const samples = options.samples === undefined ? passage.samples : passage.samples.slice(0, options.samples);
    const scored = await scoreConsistency(
      { passage: passage.passage, sentences: passage.sentences, samples },
      { variant, ngramN: options.ngramN, nli: options.nli },
    );
    result.push(scored.sentences.map((sentence) => sentence.raw));
  }
  return result;
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
    args = parseArgs(argv, { strings: ['data', 'samples', 'variant', 'out', 'ngram-n', 'nli-model'] });
  } catch (error) {
    if (error instanceof ArgError) {
      process.stderr.write(`rein eval selfcheck: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
  const usage = 'usage: rein eval selfcheck --data FILE.json [--samples N] [--variant unigram-max|unigram-avg|ngram|nli] [--ngram-n N] [--nli-model DIR] [--out FILE]\n';
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
  const raw = await scorePassages(passages, variant, { samples: sampleCount, ngramN, nli });
  const usedSamples = sampleCount ?? Math.max(0, ...passages.map((passage) => passage.samples.length));
  const report = computeSelfcheckReport(passages, raw, variant, Math.min(usedSamples, Math.max(0, ...passages.map((passage) => passage.samples.length))));
  const text = `${JSON.stringify(report)}\n`;
  if (args.values.out) fs.writeFileSync(args.values.out, text);
  process.stdout.write(text);
  return 0;
}
