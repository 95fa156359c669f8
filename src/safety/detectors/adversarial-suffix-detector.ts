/**
 * The `adversarial_suffix` detector: GCG-style token soup. Each window of 10 whitespace tokens (stride 2) gets
 *  1. character features (suffix-features.ts) with the guard character LM's mean surprisal, weighed by a logistic
 *     model fitted on the dev training part (models/guards/adversarial-suffix.json),
 *  2. the `suffix` head of the hashed n-gram classifier (when configured),
 *  3. optionally the windowed perplexity under an ONNX guard LM (`scorer`, e.g. createOnnxScorer(model)): the mean
 *     surprisal of the model's tokens inside the window, mapped by a logistic with `lmCenter`/`lmScale` (nats/token).
 * The window with the highest combined score is reported as the span. Scores are calibrated so that 0.5 sits at the
 * 0.5% text-level FPR point of the dev training part (benign instructions, long documents, code, tables).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { LanguageModelScorer } from '../../backends/language-model-scorer';
import type { Detector, DetectorContext, DetectorResult } from '../detector';
import { GatewayError } from '../../errors/gateway-error';
import { parseJson } from '../../util/parse-json';
import { createCharNgramScorer } from './char-ngram-scorer';
import { combineScores } from './combine-scores';
import { calibrateProbability, loadTextClassifier } from './onnx-text-classifier';
import { SUFFIX_FEATURE_NAMES, loadVocabulary, nllPrefixSums, windowFeatures } from './suffix-features';

export const ADVERSARIAL_SUFFIX_DETECTOR_VERSION = '1.0.0';

interface SuffixModel {
  features: string[];
  mean: number[];
  std: number[];
  weights: number[];
  bias: number;
  threshold: number;
  /** Text-level threshold on the mean of the two calibrated window scores (fitted by calibrate-suffix.ts). */
  combined_threshold?: number;
}

export interface AdversarialSuffixDetectorOptions {
  modelsDir: string;
  classifierPath?: string;
  /** A guard LM for windowed perplexity; the character LM's surprisal is always part of the features. */
  scorer?: LanguageModelScorer;
  /** Mean surprisal (nats per model token) at which the LM component scores 0.5, and its spread. Per model. */
  lmCenter?: number;
  lmScale?: number;
  /** Window size in model tokens for the LM component. */
  lmWindowTokens?: number;
}

function loadSuffixModel(modelsDir: string): SuffixModel {
  const file = path.join(modelsDir, 'guards', 'adversarial-suffix.json');
  const parsed = parseJson<SuffixModel>(fs.readFileSync(file, 'utf8'));
  if (!parsed.ok) throw new GatewayError('internal_error', `${file} is not valid JSON`);
  if (parsed.value.features.join() !== SUFFIX_FEATURE_NAMES.join()) {
    throw new GatewayError('internal_error', `${file} was fitted on other features; rerun fit-suffix-weights`);
  }
  return parsed.value;
}

/** The maximum over windows of `windowTokens` model tokens of the mean surprisal, with the window's character span. */
export async function maxWindowSurprisal(scorer: LanguageModelScorer, text: string, windowTokens: number, signal?: AbortSignal): Promise<{ surprisal: number; start: number; end: number }> {
  const scores = await scorer.score(text, signal);
  if (scores.length === 0) return { surprisal: 0, start: 0, end: 0 };
  const size = Math.min(windowTokens, scores.length);
  let sum = 0;
  for (let index = 0; index < size; index++) sum -= scores[index].logprob;
  let best = { surprisal: sum / size, start: scores[0].start, end: scores[size - 1].end };
  for (let index = size; index < scores.length; index++) {
    sum += -scores[index].logprob + scores[index - size].logprob;
    if (sum / size > best.surprisal) best = { surprisal: sum / size, start: scores[index - size + 1].start, end: scores[index].end };
  }
  return best;
}

export function createAdversarialSuffixDetector(options: AdversarialSuffixDetectorOptions): Detector {
  let loadedModel: SuffixModel | undefined;
  return {
    id: 'adversarial_suffix',
    version: ADVERSARIAL_SUFFIX_DETECTOR_VERSION,
    async detect(text: string, context: DetectorContext): Promise<DetectorResult[]> {
      loadedModel ??= loadSuffixModel(options.modelsDir);
      const model = loadedModel;
      const vocabulary = loadVocabulary(options.modelsDir);
      const charLm = createCharNgramScorer(options.modelsDir);
      const windows = windowFeatures(text, vocabulary, nllPrefixSums(text.length, await charLm.score(text)));
      if (windows.length === 0) return [{ score: 0, explanation: 'empty text' }];
      const featureScores = windows.map((window) => {
        let logit = model.bias;
        for (let j = 0; j < window.features.length; j++) logit += ((window.features[j] - model.mean[j]) / model.std[j]) * model.weights[j];
        return calibrateProbability(1 / (1 + Math.exp(-logit)), model.threshold);
      });
      let ngramScores: number[] = windows.map(() => 0);
      if (options.classifierPath) {
        const classifier = await loadTextClassifier(options.classifierPath);
        const head = classifier.heads.indexOf('suffix');
        if (head >= 0) {
          const rows = await classifier.classify(windows.map((window) => text.slice(window.start, window.end)));
          ngramScores = rows.map((row) => classifier.calibrate('suffix_text', row[head]));
        }
      }
      // The two window scores are correlated views of one window: their mean, calibrated once more at text level.
      const hasNgram = ngramScores.some((value) => value > 0);
      let bestIndex = 0;
      let bestScore = -1;
      for (let index = 0; index < windows.length; index++) {
        const score = hasNgram && model.combined_threshold !== undefined
          ? calibrateProbability((featureScores[index] + ngramScores[index]) / 2, model.combined_threshold)
          : featureScores[index];
        if (score > bestScore) {
          bestScore = score;
          bestIndex = index;
        }
      }
      let span: [number, number] = [windows[bestIndex].start, windows[bestIndex].end];
      const details: Record<string, unknown> = {
        feature_score: featureScores[bestIndex],
        ngram_score: ngramScores[bestIndex],
        features: Object.fromEntries(SUFFIX_FEATURE_NAMES.map((name, j) => [name, Number(windows[bestIndex].features[j].toFixed(3))])),
      };
      let score = bestScore;
      if (options.scorer) {
        const lm = await maxWindowSurprisal(options.scorer, text, options.lmWindowTokens ?? 12, context.signal);
        const lmScore = 1 / (1 + Math.exp(-(lm.surprisal - (options.lmCenter ?? 9)) / (options.lmScale ?? 0.75)));
        details.lm = { scorer: options.scorer.id, max_window_surprisal: lm.surprisal, score: lmScore };
        if (lmScore > score) span = [lm.start, lm.end];
        score = combineScores(score, lmScore);
      }
      const excerpt = text.slice(span[0], span[1]).slice(0, 120);
      return [
        {
          score,
          explanation: score >= 0.5 ? `token-soup span "${excerpt}" (score ${score.toFixed(2)})` : `no token soup (highest window ${score.toFixed(2)})`,
          spans: [span],
          details,
        },
      ];
    },
  };
}
