/** @jest-environment ./tests/unit/onnx/onnx-test-environment.js */
/**
 * The shipped demo model (models/rein-demo) through the whole embedded backend — chat template, decode
 * loop, batching — against torch's golden greedy tokens (tests/golden/demo-model/greedy.json).
 * Chat cases are sent as `messages`, so the template must reproduce torch's prompt ids exactly.
 * Where torch's top-2 logits nearly tie, the comparison stops there (continuations may diverge).
 * Skipped, with the reason, when the model or the golden file is absent.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createOnnxBackend, type OnnxBackend } from '../../../src/backends/onnx/onnx-backend';
import type { ChatMessage } from '../../../src/backends/backend';
import { collect, makeRequest } from './backend-helpers';

const MODEL_DIR = path.resolve(__dirname, '../../../models/rein-demo');
const GOLDEN = path.resolve(__dirname, '../../golden/demo-model/greedy.json');
const present = fs.existsSync(path.join(MODEL_DIR, 'onnx', 'model.onnx')) && fs.existsSync(GOLDEN);
const TIE_GAP = 1e-3;

interface GoldenCase {
  name: string;
  text: string;
  prompt_ids: number[];
  greedy_ids: number[];
  top1: number[];
  top2: number[];
}

/** `<s><|user|>hi<|end|><|assistant|>` → messages, or null for a raw prompt. */
function toMessages(text: string): ChatMessage[] | null {
  if (!text.includes('<|assistant|>')) return null;
  const messages: ChatMessage[] = [];
  for (const match of text.matchAll(/<\|(system|user|assistant)\|>(.*?)<\|end\|>/gs)) messages.push({ role: match[1] as ChatMessage['role'], content: match[2] });
  return messages;
}

/** The golden tokens up to the first near-tie (and without EOS, which Rein does not return). */
function comparable(goldenCase: GoldenCase, eos: readonly number[]): number[] {
  const out: number[] = [];
  for (let index = 0; index < goldenCase.greedy_ids.length; index++) {
    if (goldenCase.top1[index] - goldenCase.top2[index] < TIE_GAP) break;
    if (eos.includes(goldenCase.greedy_ids[index])) break;
    out.push(goldenCase.greedy_ids[index]);
  }
  return out;
}

(present ? describe : describe.skip)('demo model through the embedded backend', () => {
  let backend: OnnxBackend;
  const golden = present ? (JSON.parse(fs.readFileSync(GOLDEN, 'utf8')) as { cases: GoldenCase[] }).cases : [];
  beforeAll(async () => {
    backend = await createOnnxBackend({ modelDir: MODEL_DIR, modelId: 'rein-demo' });
  });
  afterAll(async () => {
    await backend.close();
  });

  const requestFor = (goldenCase: GoldenCase) => {
    const messages = toMessages(goldenCase.text);
    return makeRequest('rein-demo', messages ? { prompt: undefined, messages } : { prompt: goldenCase.text.replace(/^<s>/, '') });
  };

  test('prompt ids (raw and chat template) equal torch', () => {
    for (const goldenCase of golden) expect({ name: goldenCase.name, ids: backend.model.encodePrompt(requestFor(goldenCase)) }).toEqual({ name: goldenCase.name, ids: goldenCase.prompt_ids });
  });

  test('greedy decode equals torch, alone and with all cases batched together', async () => {
    const expected = golden.map((goldenCase) => comparable(goldenCase, backend.model.eosTokenIds));
    const run = (goldenCase: GoldenCase, index: number) => collect(backend, { ...requestFor(goldenCase), temperature: 0, maxTokens: expected[index].length });
    for (let index = 0; index < golden.length; index++) {
      const alone = await run(golden[index], index);
      expect({ name: golden[index].name, ids: alone.choices[0].tokenIds }).toEqual({ name: golden[index].name, ids: expected[index] });
    }
    const together = await Promise.all(golden.map(run));
    together.forEach((result, index) => expect({ name: golden[index].name, ids: result.choices[0].tokenIds }).toEqual({ name: golden[index].name, ids: expected[index] }));
    expect(backend.batchStats().maxRows).toBeGreaterThan(1);
  });

  test('context length comes from config.json', () => {
    expect(backend.models()).toEqual([{ id: 'rein-demo', contextLength: 512, ownedBy: 'rein' }]);
  });
});

if (!present) {
  test.skip(`demo model absent (${MODEL_DIR}): the embedded-backend golden test needs models/rein-demo and tests/golden/demo-model`, () => undefined);
}
