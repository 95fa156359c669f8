/** @jest-environment ./tests/unit/onnx/onnx-test-environment.js */
/**
 * Continuous batching: sequences from different requests share forward passes, join and leave between
 * steps, respect the maximum batch size and a fair queue, and each request's output for a given seed is
 * the one it gets alone.
 */
import { createOnnxBackend, type OnnxBackend } from '../../../src/backends/onnx/onnx-backend';
import type { BackendRequest } from '../../../src/backends/backend';
import { TINY_GPT2, TINY_LLAMA, collect, makeRequest, type GenerationResult } from './backend-helpers';
import { digitsConstraint } from './test-constraints';

function summary(result: GenerationResult): Array<{ ids: number[]; text: string; finish?: string }> {
  return result.choices.map((choice) => ({ ids: choice.tokenIds, text: choice.text, finish: choice.finishReason }));
}

// The third run puts prompt prefills on a session of their own, alongside decode steps: joiners are
// prefilled while the batch keeps decoding and join at a later boundary.
describe.each([
  ['tiny-llama', TINY_LLAMA, false],
  ['tiny-gpt2', TINY_GPT2, false],
  ['tiny-llama', TINY_LLAMA, true],
])('continuous batching on %s (prefill lane: %s)', (id, dir, prefillLane) => {
  let solo: OnnxBackend;
  beforeAll(async () => {
    solo = await createOnnxBackend({ modelDir: dir, maxBatchSize: 1 });
  });
  afterAll(async () => {
    await solo.close();
  });

  function requests(backend: OnnxBackend): BackendRequest[] {
    const vocabulary = backend.vocabulary(id);
    return [
      makeRequest(id, { prompt: 'The gateway checks what', seed: 1, maxTokens: 30 }),
      makeRequest(id, { prompt: 'In the morning the river was quiet and', seed: 2, maxTokens: 12, n: 2 }),
      makeRequest(id, { prompt: 'Numbers', temperature: 0, maxTokens: 25 }),
      makeRequest(id, { prompt: 'She opened the window', seed: 4, maxTokens: 20, topK: 20, topP: 0.9, repetitionPenalty: 1.3 }),
      makeRequest(id, { prompt: 'Invoice', seed: 5, maxTokens: 15, constraint: digitsConstraint(vocabulary, 2, vocabulary.encode('Total: ')) }),
      makeRequest(id, { messages: [{ role: 'user', content: 'hi' }], prompt: undefined, seed: 6, maxTokens: 18, stop: ['e'] }),
    ];
  }

  test('concurrent requests give exactly what each gets alone', async () => {
    const batched = await createOnnxBackend({ modelDir: dir, maxBatchSize: 16, prefillLane });
    try {
      const alone: GenerationResult[] = [];
      for (const request of requests(solo)) alone.push(await collect(solo, request));
      const together = await Promise.all(requests(batched).map((request) => collect(batched, request)));
      together.forEach((result, index) => expect(summary(result)).toEqual(summary(alone[index])));
      expect(batched.model.prefillLane).toBe(prefillLane);
      const stats = batched.batchStats();
      expect(stats.maxRows).toBeGreaterThan(1);
      // Fewer forward passes than running them one after another (batching happened).
      expect(stats.steps).toBeLessThan(solo.batchStats().steps);
      // Some rows were sampled on the worker (a solo run never offloads: one row per step).
      expect(stats.workerSampled).toBeGreaterThan(0);
      expect(solo.batchStats().workerSampled).toBe(0);
    } finally {
      await batched.close();
    }
  });

  test('rows sampled on the worker get the tokens the event loop would have chosen', async () => {
    const here = await createOnnxBackend({ modelDir: dir, maxBatchSize: 16, prefillLane, sampleOnWorker: false });
    const there = await createOnnxBackend({ modelDir: dir, maxBatchSize: 16, prefillLane });
    try {
      // Plain sampling, top-p, top-k with top-p and min-p, and the repetition penalty, several of each.
      const mixed = (): BackendRequest[] =>
        Array.from({ length: 12 }, (_, index) =>
          makeRequest(id, {
            prompt: ['The gateway', 'A river', 'Numbers and', 'She said'][index % 4],
            seed: 100 + index,
            maxTokens: 24,
            temperature: [1, 0.7, 1.2][index % 3],
            topP: index % 2 === 0 ? 0.9 : 1,
            topK: index % 5 === 0 ? 12 : 0,
            minP: index % 7 === 0 ? 0.05 : 0,
            repetitionPenalty: index % 4 === 1 ? 1.4 : 1,
            stop: [],
          }),
        );
      const a = await Promise.all(mixed().map((request) => collect(here, request)));
      const b = await Promise.all(mixed().map((request) => collect(there, request)));
      b.forEach((result, index) => expect(summary(result)).toEqual(summary(a[index])));
      expect(here.batchStats().workerSampled).toBe(0);
      expect(there.batchStats().workerSampled).toBeGreaterThan(there.batchStats().rowSteps / 4);
    } finally {
      await Promise.all([here.close(), there.close()]);
    }
  });

  test('sequences join a running batch mid-flight and leave it without disturbing the others', async () => {
    const batched = await createOnnxBackend({ modelDir: dir, maxBatchSize: 8, prefillLane });
    try {
      const long = makeRequest(id, { prompt: 'The gateway checks what', seed: 21, maxTokens: 60 });
      const late = [makeRequest(id, { prompt: 'A policy says', seed: 22, maxTokens: 10 }), makeRequest(id, { prompt: 'Every decision', seed: 23, maxTokens: 14, n: 2 })];
      const expectedLong = await collect(solo, long);
      const expectedLate = await Promise.all(late.map((request) => collect(solo, request)));

      let lateResults: Promise<GenerationResult[]> | undefined;
      const longResult: GenerationResult = { promptTokens: 0, choices: [{ text: '', tokenIds: [], deltas: 0 }], events: [] };
      for await (const event of batched.generate(long, new AbortController().signal)) {
        if (event.type !== 'token-delta') continue;
        longResult.choices[0].text += event.text;
        longResult.choices[0].tokenIds.push(...event.tokenIds);
        if (longResult.choices[0].tokenIds.length >= 5 && !lateResults) lateResults = Promise.all(late.map((request) => collect(batched, request)));
      }
      expect(longResult.choices[0].tokenIds).toEqual(expectedLong.choices[0].tokenIds);
      const lateDone = await lateResults!;
      lateDone.forEach((result, index) => expect(summary(result)).toEqual(summary(expectedLate[index])));
      expect(batched.batchStats().maxRows).toBeGreaterThanOrEqual(3);
    } finally {
      await batched.close();
    }
  });

  test('a jump-forward run in a mixed batch goes in over several steps, pads no other row, and changes no output', async () => {
    const batched = await createOnnxBackend({ modelDir: dir, maxBatchSize: 8, prefillLane });
    try {
      const vocabulary = batched.vocabulary(id);
      const forced = vocabulary.encode('Total due: ');
      expect(forced.length).toBeGreaterThan(3);
      expect(forced.length).toBeLessThan(20);
      const mixed = [
        makeRequest(id, { prompt: 'The gateway checks what', seed: 51, maxTokens: 40 }),
        makeRequest(id, { prompt: 'Invoice', seed: 52, maxTokens: 36, constraint: digitsConstraint(vocabulary, 3, forced) }),
        makeRequest(id, { prompt: 'In the morning', seed: 53, maxTokens: 30, n: 2 }),
      ];
      const alone: GenerationResult[] = [];
      for (const request of mixed) alone.push(await collect(solo, request));
      const together = await Promise.all(mixed.map((request) => collect(batched, request)));
      together.forEach((result, index) => expect(summary(result)).toEqual(summary(alone[index])));
      expect(together[1].choices[0].tokenIds.slice(0, forced.length)).toEqual(forced);
      const stats = batched.batchStats();
      expect(stats.maxRows).toBeGreaterThanOrEqual(3);
      // Every position of every decode step carried a real token: the forced run padded no one.
      expect(stats.paddingTokens).toBe(0);
      // Alone, the forced run went in as one multi-token step.
      expect(solo.batchStats().fedTokens).toBeGreaterThan(solo.batchStats().rowSteps);
    } finally {
      await batched.close();
    }
  });

  test('a cancelled request leaves at once; the rest are unaffected', async () => {
    const batched = await createOnnxBackend({ modelDir: dir, maxBatchSize: 8, prefillLane });
    try {
      const keep = makeRequest(id, { prompt: 'The gateway checks what', seed: 31, maxTokens: 40 });
      const expected = await collect(solo, keep);
      const controller = new AbortController();
      const doomed = (async () => {
        let seen = 0;
        for await (const event of batched.generate(makeRequest(id, { prompt: 'Questions are answered', seed: 32, maxTokens: 100, n: 3 }), controller.signal)) {
          if (event.type === 'token-delta' && ++seen === 4) {
            controller.abort();
            expect(batched.load().running).toBe(1);
          }
        }
      })();
      const kept = collect(batched, keep);
      await expect(doomed).rejects.toMatchObject({ name: 'AbortError' });
      expect(summary(await kept)).toEqual(summary(expected));
    } finally {
      await batched.close();
    }
  });

  test('the maximum batch size holds and the queue is fair', async () => {
    const batched = await createOnnxBackend({ modelDir: dir, maxBatchSize: 2, prefillLane });
    try {
      const big = makeRequest(id, { prompt: 'The gateway', seed: 41, maxTokens: 20, n: 4, temperature: 0, stop: [] });
      const small = makeRequest(id, { prompt: 'A policy', seed: 42, maxTokens: 20, temperature: 0 });
      const order: string[] = [];
      const track = async (name: string, request: BackendRequest): Promise<GenerationResult> => {
        const result = await collect(batched, request);
        result.events.forEach((event) => {
          if (event.type === 'choice-end') order.push(`${name}${event.choice}`);
        });
        order.push(`${name}-done`);
        return result;
      };
      const [bigResult, smallResult] = await Promise.all([track('big', big), track('small', small)]);
      expect(batched.batchStats().maxRows).toBe(2);
      expect(bigResult.choices).toHaveLength(4);
      expect(summary(smallResult)).toEqual(summary(await collect(solo, small)));
      // Round-robin: the small request does not wait for all four of the big one's samples.
      expect(order.indexOf('small-done')).toBeLessThan(order.indexOf('big-done'));
    } finally {
      await batched.close();
    }
  });
});
