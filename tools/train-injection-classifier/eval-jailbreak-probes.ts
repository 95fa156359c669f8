/**
 * Before/after figures for the jailbreak detector at the policy threshold 0.5: the benign name-question probe set
 * (tests/unit/detectors/fixtures/benign-name-probes.jsonl, made by name_probes.py, never trained on), the held-back
 * dev part (human-jailbreak TPR; FPR on benign instructions, long benign prompts and plain harmful requests — the full
 * held-back sets, not the test's subsample) and, as a final check only, "Who is <name>?" for every person in
 * models/rein-demo/world.json. Run (from the repository root):
 *   npx tsc -p tsconfig.json --outDir /tmp/rein-tools && node /tmp/rein-tools/tools/train-injection-classifier/eval-jailbreak-probes.js
 */
import fs from 'node:fs';
import path from 'node:path';
import { createJailbreakDetector } from '../../src/safety/detectors/jailbreak-detector';
import { isHeldBack } from '../../src/safety/detectors/dev-split';
import { defaultClassifierPath } from '../../src/safety/detectors/onnx-text-classifier';

interface Row {
  text: string;
  label?: number;
  template?: string;
}

function readRows(file: string): Row[] {
  return fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as Row);
}

async function main(): Promise<void> {
  const root = path.resolve(process.env.REIN_REPO_ROOT ?? process.cwd());
  const data = process.env.REIN_SHARED_DATA ?? path.resolve(root, '../shared/data');
  // REIN_CLASSIFIER: another sidecar JSON (e.g. the previous model, for before/after).
  const classifierPath = process.env.REIN_CLASSIFIER ?? defaultClassifierPath(path.join(root, 'models'));
  const detector = createJailbreakDetector({ classifierPath });
  const context = { role: 'user' as const, params: {}, signal: new AbortController().signal };
  const fireRate = async (rows: Row[]) => {
    let fired = 0;
    for (const row of rows) if ((await detector.detect(row.text, context))[0].score >= 0.5) fired++;
    return { rate: fired / Math.max(1, rows.length), fired, n: rows.length };
  };
  const heldBack = (name: string) => readRows(path.join(data, 'safety-dev', name)).filter((row) => isHeldBack(row.text));
  const probes = readRows(path.join(root, 'tests/unit/detectors/fixtures/benign-name-probes.jsonl'));
  const world = JSON.parse(fs.readFileSync(path.join(root, 'models/rein-demo/world.json'), 'utf8')) as { people: { name: string }[] };
  const report = {
    probe_fpr_all: await fireRate(probes),
    probe_fpr_shared_templates: await fireRate(probes.filter((row) => row.template === 'shared')),
    probe_fpr_unseen_templates: await fireRate(probes.filter((row) => row.template === 'unseen')),
    probe_fpr_greetings: await fireRate(probes.filter((row) => row.template === 'greeting')),
    heldback_jailbreak_tpr: await fireRate(heldBack('human-jailbreaks.jsonl')),
    heldback_benign_instructions_fpr: await fireRate(heldBack('benign-instructions.jsonl')),
    heldback_long_benign_fpr: await fireRate(heldBack('benign-long.jsonl')),
    heldback_harmful_fpr: await fireRate(heldBack('harmful-behaviors.jsonl')),
    world_who_is_fpr: await fireRate(world.people.map((person) => ({ text: `Who is ${person.name}?` }))),
  };
  console.log(JSON.stringify({ classifier: classifierPath, ...Object.fromEntries(Object.entries(report).map(([key, value]) => [key, `${(100 * value.rate).toFixed(1)}% (${value.fired}/${value.n})`])) }, null, 1));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
