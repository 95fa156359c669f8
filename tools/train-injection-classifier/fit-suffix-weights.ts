/**
 * Fits the adversarial-suffix detector's character-feature weights (src/safety/detectors/suffix-features.ts):
 * logistic regression on windows — positives are the last window of each GCG prompt (where the suffix sits),
 * negatives every window of benign prompts (short instructions, long documents, tables, code), human jailbreaks and
 * plain harmful requests — then the text-level threshold (max over windows) at 1% FPR on the training part.
 * Only the training part of the dev split is used. Writes models/guards/adversarial-suffix.json.
 *
 * Run (from the repository root): npx tsc -p tsconfig.json --outDir /tmp/rein-tools && node /tmp/rein-tools/tools/train-injection-classifier/fit-suffix-weights.js
 */
import fs from 'node:fs';
import path from 'node:path';
import { isHeldBack } from '../../src/safety/detectors/dev-split';
import { SUFFIX_FEATURE_NAMES, loadVocabulary, nllPrefixSums, windowFeatures as rawWindowFeatures } from '../../src/safety/detectors/suffix-features';
import { createCharNgramScorer } from '../../src/safety/detectors/char-ngram-scorer';
import { thresholdForFpr } from '../../src/safety/eval/metrics';

const root = path.resolve(process.env.REIN_REPO_ROOT ?? process.cwd());
const data = process.env.REIN_SHARED_DATA ?? path.resolve(root, '../shared/data');
const modelsDir = path.join(root, 'models');

function load(name: string): Array<{ text: string; label: number }> {
  return fs.readFileSync(path.join(data, 'safety-dev', name), 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line));
}

const vocabulary = loadVocabulary(modelsDir);
const charLm = createCharNgramScorer(modelsDir);
// The character LM is a table lookup: its promise resolves synchronously enough to precompute per text.
const nllCache = new Map<string, Float64Array>();
async function precompute(texts: string[]): Promise<void> {
  for (const text of texts) nllCache.set(text, nllPrefixSums(text.length, await charLm.score(text)));
}
const windowFeatures = (text: string, vocabularySet: Set<string>) => rawWindowFeatures(text, vocabularySet, nllCache.get(text));
const train = (rows: Array<{ text: string }>) => rows.filter((row) => !isHeldBack(row.text));
const attacks = train(load('gcg-suffix-attacks.jsonl'));
const negatives = [
  ...train(load('benign-instructions.jsonl')).slice(0, 3000),
  ...train(load('benign-long.jsonl')),
  ...train(load('human-jailbreaks.jsonl')),
  ...train(load('harmful-behaviors.jsonl')),
  ...train(load('indirect-injection-email.jsonl')),
];
async function main(): Promise<void> {
await precompute([...attacks, ...negatives].map((row) => row.text));
const X: number[][] = [];
const y: number[] = [];
for (const row of attacks) {
  const windows = windowFeatures(row.text, vocabulary);
  X.push(windows[windows.length - 1].features);
  y.push(1);
}
for (const row of negatives) for (const window of windowFeatures(row.text, vocabulary)) {
  X.push(window.features);
  y.push(0);
}
const dimension = SUFFIX_FEATURE_NAMES.length;
const mean = Array.from({ length: dimension }, (_, j) => X.reduce((sum, row) => sum + row[j], 0) / X.length);
const std = Array.from({ length: dimension }, (_, j) => Math.sqrt(X.reduce((sum, row) => sum + (row[j] - mean[j]) ** 2, 0) / X.length) || 1);
const Z = X.map((row) => row.map((value, j) => (value - mean[j]) / std[j]));
const positives = y.filter((label) => label === 1).length;
const weightOf = (label: number) => (label === 1 ? 0.5 / positives : 0.5 / (y.length - positives));
const weights = new Array(dimension).fill(0);
let bias = 0;
for (let iteration = 0; iteration < 1500; iteration++) {
  const gradient = new Array(dimension).fill(0);
  let gradientBias = 0;
  for (let i = 0; i < Z.length; i++) {
    const logit = Z[i].reduce((sum, value, j) => sum + value * weights[j], bias);
    const error = (1 / (1 + Math.exp(-logit)) - y[i]) * weightOf(y[i]);
    for (let j = 0; j < dimension; j++) gradient[j] += error * Z[i][j];
    gradientBias += error;
  }
  for (let j = 0; j < dimension; j++) weights[j] -= 0.5 * (gradient[j] + 1e-3 * weights[j]);
  bias -= 0.5 * gradientBias;
}
const textScore = (text: string) => {
  let best = 0;
  for (const window of windowFeatures(text, vocabulary)) {
    const logit = window.features.reduce((sum, value, j) => sum + ((value - mean[j]) / std[j]) * weights[j], bias);
    best = Math.max(best, 1 / (1 + Math.exp(-logit)));
  }
  return best;
};
const negativeScores = negatives.map((row) => textScore(row.text));
const threshold = thresholdForFpr(negativeScores, 0.005);
const tpr = attacks.filter((row) => textScore(row.text) >= threshold).length / attacks.length;
const model = {
  version: '1.0.0',
  features: SUFFIX_FEATURE_NAMES,
  mean,
  std,
  weights,
  bias,
  threshold,
  trained_on: { positives: attacks.length, negative_texts: negatives.length, windows: X.length, train_tpr: tpr, target_fpr: 0.005 },
};
fs.writeFileSync(path.join(modelsDir, 'guards', 'adversarial-suffix.json'), JSON.stringify(model, null, 2) + '\n');
process.stderr.write(`${JSON.stringify(model)}\n`);
if (process.env.REIN_DEBUG) {
  const ranked = negatives.map((row, index) => ({ score: negativeScores[index], row })).sort((a, b) => b.score - a.score).slice(0, 12);
  for (const item of ranked) {
    const windows = windowFeatures(item.row.text, vocabulary);
    let best = windows[0];
    let bestLogit = -Infinity;
    for (const window of windows) {
      const logit = window.features.reduce((sum, value, j) => sum + ((value - mean[j]) / std[j]) * weights[j], bias);
      if (logit > bestLogit) { bestLogit = logit; best = window; }
    }
    process.stderr.write(`${item.score.toFixed(4)} ${JSON.stringify(item.row.text.slice(best.start, best.end))} ${best.features.map((v) => v.toFixed(2)).join(' ')}\n`);
  }
  for (const row of attacks.slice(0, 8)) {
    const windows = windowFeatures(row.text, vocabulary);
    process.stderr.write(`ATTACK ${textScore(row.text).toFixed(4)} ${JSON.stringify(row.text.slice(windows[windows.length - 1].start))} ${windows[windows.length - 1].features.map((v) => v.toFixed(2)).join(' ')}\n`);
  }
}

}
main().catch((error) => {
  process.stderr.write(String(error));
  process.exitCode = 1;
});
