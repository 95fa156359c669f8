/** @jest-environment ./tests/unit/onnx/onnx-test-environment.js */
/**
 * Replays the golden greedy decodes (tests/golden/demo-model/greedy.json, computed by torch in
 * tools/train-demo-model) through Rein's ONNX loader (src/backends/onnx: loadOnnxModel + forward)
 * with a KV cache, the way Rein decodes: the whole prompt first (empty past), then one token per
 * step feeding `present.*` back as `past_key_values.*`. Tokens must match. Where torch's top-2
 * logits nearly tie (gap below TIE_GAP) a different choice is accepted if the ONNX logits agree
 * with torch's within LOGIT_TOLERANCE (relative), and the comparison stops there (the
 * continuations legitimately diverge after a tie).
 */
import fs from 'node:fs';
import path from 'node:path';
import { loadOnnxModel, type OnnxModel } from '../../../src/backends/onnx/onnx-model';
import { onnxGreedy } from './onnx-greedy';

const MODEL_DIR = process.env.REIN_DEMO_MODEL_DIR ?? path.resolve(__dirname, '../../../models/rein-demo');
const GOLDEN_DIR = process.env.REIN_DEMO_GOLDEN_DIR ?? path.resolve(__dirname, '../../golden/demo-model');
const TIE_GAP = 1e-3;
const LOGIT_TOLERANCE = 1e-3;

interface GoldenCase {
  name: string;
  text: string;
  prompt_ids: number[];
  greedy_ids: number[];
  top1: number[];
  top2: number[];
}

const golden = JSON.parse(fs.readFileSync(path.join(GOLDEN_DIR, 'greedy.json'), 'utf8')) as { cases: GoldenCase[] };

function near(actual: number, expected: number): boolean {
  return Math.abs(actual - expected) <= LOGIT_TOLERANCE * Math.max(1, Math.abs(expected));
}

describe('demo model: Rein ONNX decode matches torch', () => {
  let model: OnnxModel;

  beforeAll(async () => {
    model = await loadOnnxModel({ dir: MODEL_DIR, intraOpNumThreads: 1 });
  });

  afterAll(async () => {
    await model?.close();
  });

  it('loads with a KV cache, the chat template and <|end|> as end of turn', () => {
    expect(model.pastNames.length).toBeGreaterThanOrEqual(2);
    expect(model.pastNames[0]).toBe('past_key_values.0.key');
    expect(model.contextLength).toBe(512);
    expect(model.eosTokenIds).toContain(model.encodeText('<|end|>')[0]);
  });

  it('has golden cases for raw and chat-formatted prompts', () => {
    expect(golden.cases.length).toBeGreaterThanOrEqual(4);
    expect(golden.cases.some((entry) => entry.text.includes('<|assistant|>'))).toBe(true);
    expect(golden.cases.some((entry) => !entry.text.includes('<|user|>'))).toBe(true);
  });

  it('encodes the golden prompts as the training script did', () => {
    for (const entry of golden.cases) expect(model.encodeText(entry.text)).toEqual(entry.prompt_ids);
    const chat = golden.cases.find((entry) => entry.name === 'chat-fact')!;
    expect(model.encodePrompt({ messages: [{ role: 'user', content: 'When was Alder Ashgrove born?' }] })).toEqual(chat.prompt_ids);
    const raw = golden.cases.find((entry) => entry.name === 'raw-story')!;
    expect(model.encodePrompt({ prompt: 'Once upon a time' })).toEqual(raw.prompt_ids);
  });

  it.each(golden.cases.map((entry) => [entry.name, entry] as const))('%s: 32 greedy tokens match torch', async (_name, entry) => {
    expect(entry.greedy_ids.length).toBe(32);
    const { tokens, tops } = await onnxGreedy(model, entry.prompt_ids, entry.greedy_ids.length);
    for (let step = 0; step < entry.greedy_ids.length; step += 1) {
      const [top1, top2] = tops[step]!;
      expect(near(top1, entry.top1[step]!)).toBe(true);
      if (tokens[step] !== entry.greedy_ids[step]) {
        // A different argmax is only acceptable on a near tie, with matching logits; then stop.
        expect(entry.top1[step]! - entry.top2[step]!).toBeLessThan(TIE_GAP);
        expect(near(top2, entry.top2[step]!)).toBe(true);
        return;
      }
    }
    expect(tokens).toEqual(entry.greedy_ids);
  });
});
