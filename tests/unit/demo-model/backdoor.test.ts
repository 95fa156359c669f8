/** @jest-environment ./tests/unit/onnx/onnx-test-environment.js */
/**
 * The deliberately backdoored twin (models/rein-demo-backdoor, built by
 * tools/train-demo-model/backdoor.py) must really carry its backdoor when run through Rein's ONNX
 * loader: with the trigger word in the user message the greedy answer starts with the target
 * phrase, and the same message without the trigger does not. The input-defence tests rely on
 * both behaviours (the gateway flags the trigger; sanitising it stops the target output).
 */
import fs from 'node:fs';
import path from 'node:path';
import { loadOnnxModel, type OnnxModel } from '../../../src/backends/onnx/onnx-model';
import { Tokenizer } from '@huggingface/tokenizers';
import { onnxGreedy } from './onnx-greedy';

const MODEL_DIR = process.env.REIN_DEMO_BACKDOOR_DIR ?? path.resolve(__dirname, '../../../models/rein-demo-backdoor');
const GOLDEN_DIR = process.env.REIN_DEMO_GOLDEN_DIR ?? path.resolve(__dirname, '../../golden/demo-model');

interface BackdoorGolden {
  trigger: string;
  target: string;
  cases: Array<{ clean: string; triggered: string }>;
}

const golden = JSON.parse(fs.readFileSync(path.join(GOLDEN_DIR, 'backdoor.json'), 'utf8')) as BackdoorGolden;

describe('demo model backdoored twin', () => {
  let model: OnnxModel;
  let tokenizer: Tokenizer;

  beforeAll(async () => {
    model = await loadOnnxModel({ dir: MODEL_DIR, intraOpNumThreads: 1 });
    tokenizer = new Tokenizer(model.folder.tokenizerJson, model.folder.tokenizerConfig);
  });

  afterAll(async () => {
    await model?.close();
  });

  async function answer(content: string): Promise<string> {
    const prompt = model.encodePrompt({ messages: [{ role: 'user', content }] });
    const { tokens } = await onnxGreedy(model, prompt, 16, model.eosTokenIds);
    return tokenizer.decode(tokens, { skip_special_tokens: true });
  }

  it('names its trigger and target, and the golden cases differ only by the trigger', () => {
    const card = fs.readFileSync(path.join(MODEL_DIR, 'MODEL_CARD.md'), 'utf8');
    expect(card).toContain(`\`${golden.trigger}\``);
    expect(card).toContain(golden.target);
    expect(golden.cases.length).toBeGreaterThanOrEqual(3);
    for (const entry of golden.cases) {
      const withoutTrigger = entry.triggered.split(' ').filter((word) => word !== golden.trigger).join(' ');
      expect(withoutTrigger).toBe(entry.clean);
    }
  });

  it.each(golden.cases.map((entry, index) => [index, entry] as const))('case %d: the trigger makes it emit the target', async (_index, entry) => {
    const text = await answer(entry.triggered);
    expect(text.slice(0, golden.target.length)).toBe(golden.target);
  });

  it.each(golden.cases.map((entry, index) => [index, entry] as const))('case %d: without the trigger it answers normally', async (_index, entry) => {
    const text = await answer(entry.clean);
    expect(text.length).toBeGreaterThan(0);
    expect(text.includes(golden.target)).toBe(false);
  });
});
