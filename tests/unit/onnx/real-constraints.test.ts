/** @jest-environment ./tests/unit/onnx/onnx-test-environment.js */
/**
 * The decode loop with the real constraint engine (src/decoding/compile-constraint.ts) on both tiny
 * models: whatever the random weights prefer, the output obeys the constraint, and `constraint_complete`
 * says whether it is a full match.
 */
import { createOnnxBackend, type OnnxBackend } from '../../../src/backends/onnx/onnx-backend';
import { compileConstraint } from '../../../src/decoding/compile-constraint';
import { parseJson } from '../../../src/util/parse-json';
import { TINY_GPT2, TINY_LLAMA, collect, makeRequest } from './backend-helpers';

describe.each([
  ['tiny-llama', TINY_LLAMA],
  ['tiny-gpt2', TINY_GPT2],
])('real constraints on %s', (id, dir) => {
  let backend: OnnxBackend;
  beforeAll(async () => {
    backend = await createOnnxBackend({ modelDir: dir });
  });
  afterAll(async () => {
    await backend.close();
  });

  test('choice: only a listed choice, complete', async () => {
    const constraint = compileConstraint({ type: 'choice', choices: ['yes', 'no'] }, undefined, backend.vocabulary(id));
    const result = await collect(backend, makeRequest(id, { constraint, maxTokens: 10, n: 4, seed: 4 }));
    for (const choice of result.choices) {
      expect(['yes', 'no']).toContain(choice.text);
      expect(choice.finishReason).toBe('stop');
      expect(choice.constraintComplete).toBe(true);
    }
  });

  test('regex: a full match when complete, a prefix when cut by max_tokens', async () => {
    const constraint = compileConstraint({ type: 'regex', pattern: '[0-9]{3}-[a-z]{1,4}' }, undefined, backend.vocabulary(id));
    for (const maxTokens of [3, 30]) {
      const result = await collect(backend, makeRequest(id, { constraint, maxTokens, n: 3, seed: 8 }));
      for (const choice of result.choices) {
        if (choice.constraintComplete) expect(choice.text).toMatch(/^[0-9]{3}-[a-z]{1,4}$/);
        else expect(choice.finishReason).toBe('length');
        expect(choice.text).toMatch(/^[0-9]{0,3}(-[a-z]{0,4})?$/);
      }
    }
  });

  test('JSON Schema: complete outputs parse and validate', async () => {
    const schema = { type: 'object', properties: { a: { type: 'integer' } }, required: ['a'], additionalProperties: false };
    const constraint = compileConstraint({ type: 'json_schema', schema }, undefined, backend.vocabulary(id));
    const result = await collect(backend, makeRequest(id, { constraint, maxTokens: 24, n: 4, seed: 12 }));
    let complete = 0;
    for (const choice of result.choices) {
      if (!choice.constraintComplete) {
        expect(choice.finishReason).toBe('length');
        continue;
      }
      complete++;
      const parsed = parseJson<{ a: number }>(choice.text);
      expect(parsed.ok).toBe(true);
      if (parsed.ok) {
        expect(Object.keys(parsed.value)).toEqual(['a']);
        expect(Number.isInteger(parsed.value.a)).toBe(true);
      }
    }
    expect(complete).toBeGreaterThan(0);
  });
});
