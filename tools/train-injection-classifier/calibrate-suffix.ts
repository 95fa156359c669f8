/**
 * Calibrates the adversarial_suffix detector's text-level threshold on the mean of its two window scores (character
 * features and the classifier's suffix head): 0.5% FPR on the training part of the dev negatives (benign instructions,
 * long documents with code and tables, human jailbreaks, harmful requests, emails). Writes `combined_threshold` into
 * models/guards/adversarial-suffix.json. Run (from the repository root) after fit-suffix-weights and train.py:
 *   npx tsc -p tsconfig.json --outDir /tmp/rein-tools && node /tmp/rein-tools/tools/train-injection-classifier/calibrate-suffix.js
 */
import fs from 'node:fs';
import path from 'node:path';
import { createAdversarialSuffixDetector } from '../../src/safety/detectors/adversarial-suffix-detector';
import { isHeldBack } from '../../src/safety/detectors/dev-split';
import { defaultWindowClassifierPath } from '../../src/safety/detectors/onnx-text-classifier';
import { thresholdForFpr } from '../../src/safety/eval/metrics';

async function main(): Promise<void> {
  const root = path.resolve(process.env.REIN_REPO_ROOT ?? process.cwd());
  const data = process.env.REIN_SHARED_DATA ?? path.resolve(root, '../shared/data');
  const modelsDir = path.join(root, 'models');
  const file = path.join(modelsDir, 'guards', 'adversarial-suffix.json');
  const model = JSON.parse(fs.readFileSync(file, 'utf8'));
  // Score with the raw mean (threshold 0.5 maps the mean to itself).
  model.combined_threshold = 0.5;
  fs.writeFileSync(file, JSON.stringify(model, null, 2) + '\n');
  const detector = createAdversarialSuffixDetector({ modelsDir, classifierPath: defaultWindowClassifierPath(modelsDir) });
  const load = (name: string) => fs.readFileSync(path.join(data, 'safety-dev', name), 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as { text: string }).filter((row) => !isHeldBack(row.text));
  const negatives = [...load('benign-instructions.jsonl').slice(0, 4000), ...load('benign-long.jsonl'), ...load('human-jailbreaks.jsonl'), ...load('harmful-behaviors.jsonl'), ...load('indirect-injection-email.jsonl')];
  const positives = load('gcg-suffix-attacks.jsonl');
  const score = async (text: string) => (await detector.detect(text, { role: 'user', params: {}, signal: new AbortController().signal }))[0].score;
  const negativeScores: number[] = [];
  for (const row of negatives) negativeScores.push(await score(row.text));
  const threshold = thresholdForFpr(negativeScores, 0.005);
  let caught = 0;
  for (const row of positives) if ((await score(row.text)) >= threshold) caught++;
  model.combined_threshold = threshold;
  model.combined_fitted_on = { negatives: negatives.length, positives: positives.length, train_tpr: caught / positives.length, target_fpr: 0.005 };
  fs.writeFileSync(file, JSON.stringify(model, null, 2) + '\n');
  process.stderr.write(`${JSON.stringify(model.combined_fitted_on)} threshold ${threshold}\n`);
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
