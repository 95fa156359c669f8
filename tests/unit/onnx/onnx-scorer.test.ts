/** @jest-environment ./tests/unit/onnx/onnx-test-environment.js */
/**
 * createOnnxScorer: log-probabilities agree with the decode loop's own logits, offsets map tokens back
 * to the scored text, and batched scoring equals one-by-one scoring.
 */
import { loadOnnxModel, type OnnxModel } from '../../../src/backends/onnx/onnx-model';
import { createOnnxScorer } from '../../../src/backends/onnx/onnx-scorer';
import { TINY_GPT2, TINY_LLAMA } from './backend-helpers';

describe.each([TINY_LLAMA, TINY_GPT2])('scorer on %s', (dir) => {
  let model: OnnxModel;
  beforeAll(async () => {
    model = await loadOnnxModel({ dir });
  });
  afterAll(async () => {
    await model.close();
  });

  test('token offsets cover the text and logprobs are proper', async () => {
    const scorer = createOnnxScorer(model);
    const text = 'The gateway checks what goes in, 12 héllo.';
    const scores = await scorer.score(text);
    expect(scores.length).toBe(model.encodeText(text).length);
    expect(scores[scores.length - 1].end).toBe(text.length);
    for (let index = 1; index < scores.length; index++) expect(scores[index].start).toBe(scores[index - 1].end);
    expect(scores.map((score) => text.slice(score.start, score.end)).join('')).toBe(text);
    for (const score of scores) {
      expect(score.logprob).toBeLessThan(0);
      expect(Number.isFinite(score.logprob)).toBe(true);
    }
  });

  test('the first token is scored given BOS, matching a direct forward pass', async () => {
    const scorer = createOnnxScorer(model);
    const text = 'In the morning';
    const scores = await scorer.score(text);
    const ids = model.encodeText(text);
    const bosIds = model.encodePrompt({ prompt: '' });
    const bos = bosIds.length === 1 ? bosIds[0] : model.eosTokenIds[0];
    const sequence = [bos, ...ids];
    const output = await model.forward({
      batch: 1,
      length: sequence.length,
      inputIds: BigInt64Array.from(sequence, BigInt),
      attentionMask: new BigInt64Array(sequence.length).fill(1n),
      positionIds: BigInt64Array.from(sequence.map((_, index) => BigInt(index))),
      past: null,
    });
    const width = output.vocabWidth;
    const row = output.logits.subarray(0, width);
    const max = Math.max(...row);
    const logSum = Math.log(row.reduce((sum, value) => sum + Math.exp(value - max), 0));
    expect(scores[0].logprob).toBeCloseTo(row[ids[0]] - max - logSum, 4);
  });

  test('a batch scores like one-by-one (left padding is masked)', async () => {
    const scorer = createOnnxScorer(model);
    const texts = ['short', 'a somewhat longer sentence about the river and the boats', 'Numbers such as 12'];
    const batched = await scorer.scoreBatch!(texts);
    for (let index = 0; index < texts.length; index++) {
      const alone = await scorer.score(texts[index]);
      expect(batched[index].map((score) => score.token)).toEqual(alone.map((score) => score.token));
      batched[index].forEach((score, position) => expect(score.logprob).toBeCloseTo(alone[position].logprob, 4));
    }
  });

  test('texts longer than the context are scored in windows', async () => {
    const scorer = createOnnxScorer(model);
    const text = 'the river was quiet and the boats were still '.repeat(40);
    const scores = await scorer.score(text);
    expect(scores.length).toBe(model.encodeText(text).length);
    expect(scores.length).toBeGreaterThan(model.contextLength);
    expect(scores.every((score) => Number.isFinite(score.logprob) && score.logprob < 0)).toBe(true);
  });
});
