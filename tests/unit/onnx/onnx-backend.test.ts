/** @jest-environment ./tests/unit/onnx/onnx-test-environment.js */
/**
 * The embedded ONNX backend end to end on the two tiny fixture models (real onnxruntime): greedy decode
 * against torch's golden tokens, seeded sampling, stop sequences, max_tokens, n samples, abort, chat
 * templates, context length, constraint sessions (masking and jump-forward).
 */
import { createOnnxBackend, type OnnxBackend } from '../../../src/backends/onnx/onnx-backend';
import { GatewayError } from '../../../src/errors/gateway-error';
import { TINY_GPT2, TINY_LLAMA, collect, makeRequest, readGolden } from './backend-helpers';
import { digitsConstraint, isDigitToken, type SessionLog } from './test-constraints';

const models: Array<[string, string]> = [
  ['tiny-llama', TINY_LLAMA],
  ['tiny-gpt2', TINY_GPT2],
];

describe.each(models)('ONNX backend on %s', (id, dir) => {
  let backend: OnnxBackend;
  beforeAll(async () => {
    backend = await createOnnxBackend({ modelDir: dir, intraOpNumThreads: 1 });
  });
  afterAll(async () => {
    await backend.close();
  });

  test('describes the model from config.json', () => {
    const [info] = backend.models();
    expect(info.id).toBe(id);
    expect(info.contextLength).toBe(id === 'tiny-llama' ? 256 : 128);
    expect(backend.capabilities.tokenMask).toBe(true);
    expect(backend.vocabulary(id).size).toBeGreaterThan(256);
  });

  test('greedy decoding reproduces torch token for token', async () => {
    const golden = readGolden(dir);
    for (const goldenCase of golden.cases) {
      expect(backend.countPromptTokens({ model: id, prompt: goldenCase.prompt })).toBe(goldenCase.prompt_ids.length);
      const result = await collect(backend, makeRequest(id, { prompt: goldenCase.prompt, temperature: 0, maxTokens: 16 }));
      expect(result.promptTokens).toBe(goldenCase.prompt_ids.length);
      // Rein stops at EOS without returning it; torch's list includes it.
      const eos = new Set(backend.model.eosTokenIds);
      const expected = goldenCase.greedy_ids.filter((token) => !eos.has(token));
      expect(result.choices[0].tokenIds).toEqual(expected);
      expect(result.choices[0].completionTokens).toBe(expected.length);
    }
  });

  test('seeded sampling is reproducible and differs across seeds', async () => {
    const first = await collect(backend, makeRequest(id, { seed: 7, maxTokens: 24 }));
    const again = await collect(backend, makeRequest(id, { seed: 7, maxTokens: 24 }));
    const other = await collect(backend, makeRequest(id, { seed: 8, maxTokens: 24 }));
    expect(again.choices[0].tokenIds).toEqual(first.choices[0].tokenIds);
    expect(again.choices[0].text).toBe(first.choices[0].text);
    expect(other.choices[0].tokenIds).not.toEqual(first.choices[0].tokenIds);
  });

  test('top_k 1 and a tiny top_p both equal greedy; penalties change the output', async () => {
    const greedy = await collect(backend, makeRequest(id, { temperature: 0, maxTokens: 16 }));
    const topK = await collect(backend, makeRequest(id, { temperature: 1.5, topK: 1, maxTokens: 16, seed: 3 }));
    const topP = await collect(backend, makeRequest(id, { temperature: 1.5, topP: 1e-6, maxTokens: 16, seed: 4 }));
    const minP = await collect(backend, makeRequest(id, { temperature: 1.5, minP: 1, maxTokens: 16, seed: 5 }));
    expect(topK.choices[0].tokenIds).toEqual(greedy.choices[0].tokenIds);
    expect(topP.choices[0].tokenIds).toEqual(greedy.choices[0].tokenIds);
    expect(minP.choices[0].tokenIds).toEqual(greedy.choices[0].tokenIds);
    const penalised = await collect(backend, makeRequest(id, { temperature: 0, repetitionPenalty: 100, maxTokens: 16 }));
    // With a huge penalty greedy decoding cannot repeat a token it has seen in the prompt or output.
    const ids = penalised.choices[0].tokenIds;
    expect(new Set(ids).size).toBe(ids.length);
  });

  test('max_tokens ends the choice with finish_reason length', async () => {
    const result = await collect(backend, makeRequest(id, { temperature: 0, maxTokens: 5 }));
    expect(result.choices[0].finishReason).toBe('length');
    expect(result.choices[0].completionTokens).toBe(5);
    expect(result.choices[0].tokenIds).toHaveLength(5);
  });

  test('stop sequences cut the text, also across token boundaries, and are not returned', async () => {
    const full = await collect(backend, makeRequest(id, { temperature: 0, maxTokens: 16 }));
    const text = full.choices[0].text;
    // A stop string that straddles the 3rd/4th tokens' boundary.
    const vocabulary = backend.vocabulary(id);
    const decoder = new TextDecoder();
    const tokens = full.choices[0].tokenIds;
    const prefix = decoder.decode(new Uint8Array(tokens.slice(0, 3).flatMap((token) => Array.from(vocabulary.tokenBytes(token) ?? []))));
    const boundary = prefix.length;
    expect(boundary).toBeGreaterThan(0);
    const stop = text.slice(boundary - 1, boundary + 1);
    expect(stop).toHaveLength(2);
    const cut = await collect(backend, makeRequest(id, { temperature: 0, maxTokens: 16, stop: ['never-occurs', stop] }));
    expect(cut.choices[0].finishReason).toBe('stop');
    expect(cut.choices[0].text).toBe(text.slice(0, text.indexOf(stop)));
    expect(cut.choices[0].text).not.toContain(stop);
  });

  test('n = 3 gives three choices; choice i equals a lone run with seed + i', async () => {
    const result = await collect(backend, makeRequest(id, { n: 3, seed: 100, maxTokens: 12 }));
    expect(result.choices).toHaveLength(3);
    for (let index = 0; index < 3; index++) {
      const alone = await collect(backend, makeRequest(id, { n: 1, seed: 100 + index, maxTokens: 12 }));
      expect(result.choices[index].tokenIds).toEqual(alone.choices[0].tokenIds);
      expect(result.choices[index].text).toBe(alone.choices[0].text);
    }
    expect(new Set(result.choices.map((choice) => choice.tokenIds.join(','))).size).toBeGreaterThan(1);
  });

  test('abort stops the generation and throws AbortError', async () => {
    const controller = new AbortController();
    let deltas = 0;
    const run = async (): Promise<void> => {
      for await (const event of backend.generate(makeRequest(id, { maxTokens: 100, seed: 1 }), controller.signal)) {
        if (event.type === 'token-delta') {
          deltas++;
          if (deltas === 2) controller.abort();
        }
      }
    };
    await expect(run()).rejects.toMatchObject({ name: 'AbortError' });
    expect(deltas).toBeLessThan(100);
    expect(backend.load()).toEqual({ running: 0, waiting: 0 });
  });

  test('a consumer that stops reading cancels its sequences', async () => {
    for await (const event of backend.generate(makeRequest(id, { maxTokens: 100, seed: 2 }), new AbortController().signal)) {
      if (event.type === 'token-delta') break;
    }
    expect(backend.load()).toEqual({ running: 0, waiting: 0 });
  });

  test('chat messages go through the chat template', async () => {
    const messages = [{ role: 'user' as const, content: 'Hello there' }];
    const count = backend.countPromptTokens({ model: id, messages });
    const plain = backend.countPromptTokens({ model: id, prompt: 'Hello there' });
    expect(count).toBeGreaterThan(plain);
    expect(backend.model.renderChat(messages)).toContain('Hello there');
    const result = await collect(backend, makeRequest(id, { prompt: undefined, messages, maxTokens: 4, temperature: 0 }));
    expect(result.promptTokens).toBe(count);
    expect(result.choices[0].completionTokens).toBeGreaterThan(0);
  });

  test('bad requests are GatewayErrors naming the field', async () => {
    const long = 'word '.repeat(400);
    await expect(collect(backend, makeRequest(id, { prompt: long }))).rejects.toMatchObject({ code: 'context_length_exceeded', param: '/prompt' });
    await expect(collect(backend, makeRequest('no-such-model'))).rejects.toMatchObject({ code: 'not_found' });
    await expect(collect(backend, makeRequest(id, { maxTokens: 0 }))).rejects.toMatchObject({ code: 'invalid_request', param: '/max_tokens' });
    await expect(collect(backend, makeRequest(id, { n: 0 }))).rejects.toBeInstanceOf(GatewayError);
  });

  test('generation stops at the context length', async () => {
    const context = backend.models()[0].contextLength;
    const prompt = 'a';
    const promptTokens = backend.countPromptTokens({ model: id, prompt });
    // Digits only and EOS never allowed: only the context can end it.
    const constraint = digitsConstraint(backend.vocabulary(id), 100_000);
    const result = await collect(backend, makeRequest(id, { prompt, maxTokens: 1000, seed: 9, constraint }));
    expect(result.choices[0].finishReason).toBe('length');
    expect(result.choices[0].completionTokens).toBe(context - promptTokens);
  });

  test('a constraint session masks every step and is obeyed', async () => {
    const vocabulary = backend.vocabulary(id);
    const log: SessionLog = { masks: 0, advanced: [], rejected: [] };
    const result = await collect(backend, makeRequest(id, { constraint: digitsConstraint(vocabulary, 3, [], log), maxTokens: 10, n: 2, seed: 11 }));
    for (const choice of result.choices) {
      expect(choice.tokenIds.length).toBeGreaterThan(0);
      expect(choice.tokenIds.every((token) => isDigitToken(vocabulary, token))).toBe(true);
      expect(choice.text).toMatch(/^[0-9]+$/);
      expect(choice.constraintComplete).toBe(choice.tokenIds.length >= 3);
    }
    expect(log.rejected).toEqual([]);
    expect(log.masks).toBeGreaterThanOrEqual(result.choices.reduce((sum, choice) => sum + choice.tokenIds.length, 0));
  });

  test('max_tokens cutting a constrained output gives length and constraint_complete false', async () => {
    const vocabulary = backend.vocabulary(id);
    const result = await collect(backend, makeRequest(id, { constraint: digitsConstraint(vocabulary, 5), maxTokens: 3, temperature: 0 }));
    expect(result.choices[0].finishReason).toBe('length');
    expect(result.choices[0].constraintComplete).toBe(false);
  });

  test('forced tokens are appended without sampling (jump-forward) and flagged', async () => {
    const vocabulary = backend.vocabulary(id);
    const prefix = vocabulary.encode('The answer is ');
    expect(prefix.length).toBeGreaterThan(1);
    const result = await collect(backend, makeRequest(id, { constraint: digitsConstraint(vocabulary, 2, prefix), maxTokens: 12, seed: 5 }));
    const choice = result.choices[0];
    expect(choice.tokenIds.slice(0, prefix.length)).toEqual(prefix);
    // The prefix's text is its tokens' bytes (a SentencePiece vocabulary adds a leading space).
    const prefixText = new TextDecoder().decode(new Uint8Array(prefix.flatMap((token) => Array.from(vocabulary.tokenBytes(token) ?? []))));
    expect(prefixText.trim()).toBe('The answer is');
    expect(choice.text.startsWith(prefixText)).toBe(true);
    expect(choice.text.slice(prefixText.length)).toMatch(/^[0-9]+$/);
    const forcedDeltas = result.events.filter((event) => event.type === 'token-delta' && event.forced);
    expect(forcedDeltas.length).toBeGreaterThan(0);
    // Forced tokens count in completion tokens.
    expect(choice.completionTokens).toBe(choice.tokenIds.length);
  });
});

describe('inline executor (session on the calling thread)', () => {
  test('decodes exactly like the worker executor, alone and batched', async () => {
    const inline = await createOnnxBackend({ modelDir: TINY_LLAMA, executor: 'inline' });
    const worker = await createOnnxBackend({ modelDir: TINY_LLAMA, executor: 'worker' });
    try {
      const golden = readGolden(TINY_LLAMA);
      const greedy = await collect(inline, makeRequest('tiny-llama', { prompt: golden.cases[1].prompt, temperature: 0 }));
      expect(greedy.choices[0].tokenIds).toEqual(golden.cases[1].greedy_ids.filter((token) => !inline.model.eosTokenIds.includes(token)));
      const requests = [makeRequest('tiny-llama', { seed: 1, n: 2 }), makeRequest('tiny-llama', { prompt: 'Numbers', seed: 2, topP: 0.8 })];
      const fromInline = await Promise.all(requests.map((request) => collect(inline, request)));
      const fromWorker = await Promise.all(requests.map((request) => collect(worker, request)));
      expect(fromInline.map((result) => result.choices.map((choice) => choice.tokenIds))).toEqual(fromWorker.map((result) => result.choices.map((choice) => choice.tokenIds)));
    } finally {
      await inline.close();
      await worker.close();
    }
  });
});

describe('bounded logits per forward pass', () => {
  test('a prompt prefilled in chunks and jump-forward in small runs decode as usual', async () => {
    const chunked = await createOnnxBackend({ modelDir: TINY_LLAMA, maxLogitsPerStep: 534 * 3, maxBatchSize: 1 });
    const plain = await createOnnxBackend({ modelDir: TINY_LLAMA });
    try {
      const golden = readGolden(TINY_LLAMA);
      const prompt = golden.cases[1].prompt;
      expect(chunked.countPromptTokens({ model: 'tiny-llama', prompt })).toBeGreaterThan(3);
      const greedy = await collect(chunked, makeRequest('tiny-llama', { prompt, temperature: 0 }));
      expect(greedy.choices[0].tokenIds).toEqual(golden.cases[1].greedy_ids.filter((token) => !chunked.model.eosTokenIds.includes(token)));
      const vocabulary = chunked.vocabulary('tiny-llama');
      const prefix = vocabulary.encode('The gateway checks what goes in and what comes out');
      expect(prefix.length).toBeGreaterThan(3);
      const request = makeRequest('tiny-llama', { constraint: digitsConstraint(vocabulary, 2, prefix), maxTokens: 20, seed: 3 });
      const small = await collect(chunked, request);
      const large = await collect(plain, makeRequest('tiny-llama', { ...request, constraint: digitsConstraint(vocabulary, 2, prefix) }));
      expect(small.choices[0].tokenIds.slice(0, prefix.length)).toEqual(prefix);
      expect(small.choices[0].tokenIds).toEqual(large.choices[0].tokenIds);
    } finally {
      await chunked.close();
      await plain.close();
    }
  });
});
