/** @jest-environment ./tests/unit/onnx/onnx-test-environment.js */
/**
 * The ONNX NLI cross-encoder path end to end with the tiny random-weight model in tests/fixtures/nli/tiny
 * (built by tools/make-tiny-nli): onnxruntime agrees with torch's reference logits, the label order comes
 * from config.json, long premises are truncated to the window, and the nli variant of self_consistency and
 * NLI grounding produce one [0, 1] score per sentence.
 */
import fs from 'node:fs';
import path from 'node:path';
import { loadNliModel } from '../../../src/safety/consistency/nli-model';
import { scoreConsistency } from '../../../src/safety/consistency/self-consistency';
import { groundAnswer } from '../../../src/safety/consistency/grounding';
import { createBuiltinOutputChecks } from '../../../src/safety/checks';
import { run as runSelfcheckEval } from '../../../src/safety/eval/selfcheck-eval';
import os from 'node:os';

const MODEL_DIR = path.resolve(__dirname, '../../fixtures/nli/tiny');
const reference = JSON.parse(fs.readFileSync(path.join(MODEL_DIR, 'reference.json'), 'utf8')) as { logits: number[] };

function softmax(values: number[]): number[] {
  const exps = values.map((value) => Math.exp(value - Math.max(...values)));
  const sum = exps.reduce((total, value) => total + value, 0);
  return exps.map((value) => value / sum);
}

const inUnitInterval = (value: number) => value >= 0 && value <= 1 && Number.isFinite(value);

describe('NLI model (tiny fixture)', () => {
  it('reproduces the torch reference logits through the tokenizer pair template, with labels from id2label', async () => {
    const model = await loadNliModel(MODEL_DIR);
    // reference.json is [CLS] the band [SEP] he [SEP]; config id2label = {0: contradiction, 1: entailment, 2: neutral}.
    const [result] = await model.classify([{ premise: 'The band', hypothesis: 'He' }]);
    const expected = softmax(reference.logits);
    expect(result.contradiction).toBeCloseTo(expected[0], 5);
    expect(result.entailment).toBeCloseTo(expected[1], 5);
    expect(result.neutral).toBeCloseTo(expected[2], 5);
    expect(result.contradictionVsEntailment).toBeCloseTo(softmax([reference.logits[1], reference.logits[0]])[1], 5);
  });

  it('classifies batches of mixed lengths, truncating premises longer than the window', async () => {
    const model = await loadNliModel(MODEL_DIR, { batchSize: 3 });
    const pairs = [
      { premise: 'Marie Curie was born in Warsaw. '.repeat(60), hypothesis: 'She was born in 1867.' },
      { premise: 'short', hypothesis: 'a much longer hypothesis about a football club and its city' },
      { premise: 'one', hypothesis: 'two' },
      { premise: 'three', hypothesis: 'four' },
    ];
    // Untruncated, the first pair would index past the 128 position embeddings and onnxruntime would throw.
    const batched = await model.classify(pairs);
    expect(batched).toHaveLength(4);
    for (const result of batched) {
      expect(result.entailment + result.neutral + result.contradiction).toBeCloseTo(1, 6);
      for (const value of Object.values(result)) expect(inUnitInterval(value)).toBe(true);
    }
    // Padding in a batch must not change a pair's result.
    const [alone] = await model.classify([pairs[2]]);
    expect(batched[2].contradiction).toBeCloseTo(alone.contradiction, 5);
  });

  it('runs the nli self-consistency variant and NLI grounding end to end', async () => {
    const model = await loadNliModel(MODEL_DIR);
    const passage = 'Marie Curie was born in Warsaw. She won two Nobel Prizes.';
    const samples = ['Marie Curie was born in Warsaw.', 'Curie won the Nobel Prize twice.', 'She was a Polish physicist.'];
    const result = await scoreConsistency({ passage, samples }, { variant: 'nli', nli: model });
    expect(result.sentences).toHaveLength(2);
    for (const sentence of result.sentences) {
      expect(inUnitInterval(sentence.score)).toBe(true);
      expect(sentence.score).toBeCloseTo(1 - sentence.raw, 12);
    }
    const grounded = await groundAnswer(passage, samples, { nli: model });
    for (const sentence of grounded.sentences) {
      expect(inUnitInterval(sentence.entailment!)).toBe(true);
      expect(sentence.score).toBeCloseTo(sentence.keyFraction * sentence.entailment!, 12);
    }
  });

  it('is reachable through createBuiltinOutputChecks({nliModelDir}), and unavailable without it', async () => {
    const controller = new AbortController();
    const context = { role: 'prompt' as const, params: { variant: 'nli' }, signal: controller.signal, samples: ['Paris is in France.', 'Paris is the capital.'] };
    const [check] = createBuiltinOutputChecks({ nliModelDir: MODEL_DIR });
    const [result] = await check.check('Paris is the capital of France. It has a tower.', context);
    expect(inUnitInterval(result.score)).toBe(true);
    expect((result.details!.sentences as unknown[]).length).toBe(2);
    const [withoutModel] = createBuiltinOutputChecks({});
    await expect(withoutModel.check('x', context)).rejects.toMatchObject({ code: 'unavailable' });
  });

  it('reports a missing model folder as unavailable', async () => {
    await expect(loadNliModel(path.join(MODEL_DIR, 'missing'))).rejects.toMatchObject({ code: 'unavailable' });
  });

  it('drives rein eval selfcheck --variant nli --nli-model DIR to a SPEC §6 report', async () => {
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'rein-selfcheck-nli-'));
    const data = path.join(directory, 'data.json');
    const out = path.join(directory, 'out.json');
    fs.writeFileSync(
      data,
      JSON.stringify([
        { id: 1, passage: 'A is B. C is D.', sentences: ['A is B.', 'C is D.'], annotation: ['accurate', 'major_inaccurate'], samples: ['A is B.', 'C is E.'] },
        { id: 2, passage: 'E is F. G is H.', sentences: ['E is F.', 'G is H.'], annotation: ['minor_inaccurate', 'accurate'], samples: ['E is F.', 'G is H.'] },
      ]),
    );
    const stdout = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      expect(await runSelfcheckEval(['--data', data, '--variant', 'nli', '--nli-model', MODEL_DIR, '--out', out])).toBe(0);
    } finally {
      stdout.mockRestore();
    }
    const report = JSON.parse(fs.readFileSync(out, 'utf8'));
    expect(report).toMatchObject({ passages: 2, sentences: 4, variant: 'nli', samples: 2 });
    // Random weights: only the ranges are meaningful.
    for (const value of Object.values(report.auc_pr as Record<string, number>)) expect(value >= 0 && value <= 100).toBe(true);
    fs.rmSync(directory, { recursive: true, force: true });
  });
});
