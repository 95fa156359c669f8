/**
 * MaskBench harness: instance layout (Python json.dumps, numbers as written), token-by-token checks
 * with the real engine on a small real vocabulary (the tiny GPT-2 fixture), outcome classification,
 * the per-schema deadline, and the SPEC §6 result keys.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  listMaskBenchFiles,
  readMaskBenchFile,
  runMaskBench,
  runSchemaFile,
  type SchemaRunContext,
} from '../../../src/bench/maskbench';
import { compileGrammar } from '../../../src/decoding/compile-grammar';
import { jsonSchemaToGrammar } from '../../../src/decoding/json-schema';
import { loadVocabularyFromFile } from '../../../src/decoding/vocabulary-from-tokenizer';

const TINY_TOKENIZER = path.resolve(__dirname, '../../fixtures/models/tiny-gpt2/tokenizer.json');

function tokensContext(): SchemaRunContext {
  const vocabulary = loadVocabularyFromFile(TINY_TOKENIZER, { id: 'tiny-gpt2' });
  return {
    vocabulary,
    mode: 'tokens',
    compile: (schema, vocab) => compileGrammar(jsonSchemaToGrammar(schema, { whitespace: 'python' }), vocab),
  };
}

const FILE = JSON.stringify({
  schema: { type: 'object', properties: { name: { type: 'string' }, age: { type: 'integer', minimum: 0 }, score: { type: 'number' } }, required: ['name'] },
  tests: [
    { data: { name: 'Ann', age: 41, score: 1.50 }, valid: true },
    { data: { name: 'Bö "q"' }, valid: true },
    { data: { name: 'Ann', age: -1 }, valid: false },
    { data: { age: 3 }, valid: false },
  ],
}).replace('1.5', '1.50');

describe('MaskBench harness', () => {
  test('instances are laid out as Python json.dumps, numbers as written in the file', () => {
    const parsed = readMaskBenchFile(FILE);
    expect(parsed.tests.map((test) => test.text)).toEqual([
      '{"name": "Ann", "age": 41, "score": 1.50}',
      '{"name": "Bö \\"q\\""}',
      '{"name": "Ann", "age": -1}',
      '{"age": 3}',
    ]);
    expect(parsed.tests.map((test) => test.valid)).toEqual([true, true, false, false]);
  });

  test('token by token with the engine: valid accepted, invalid rejected', () => {
    const report = runSchemaFile('file.json', FILE, tokensContext(), Date.now() + 60_000);
    expect(report.outcome).toEqual({ type: 'pass' });
    expect(report.tbmMicros.length).toBeGreaterThan(10);
    expect(report.ttfmMicros).toBeGreaterThan(0);
  });

  test('a valid instance in another property order is a validation error, reported with where it stopped', () => {
    const file = JSON.stringify({ schema: { properties: { a: { type: 'integer' }, b: { type: 'integer' } } }, tests: [{ data: { b: 1, a: 2 }, valid: true }] });
    const report = runSchemaFile('order.json', file, tokensContext(), Date.now() + 60_000);
    expect(report.outcome.type).toBe('tests-failed');
    expect(report.validationErrors).toBe(1);
    expect(report.invalidationErrors).toBe(0);
  });

  test('unsupported keywords and timeouts are classified', () => {
    const unsupported = runSchemaFile('u.json', JSON.stringify({ schema: { type: 'array', uniqueItems: true }, tests: [] }), tokensContext(), Date.now() + 60_000);
    expect(unsupported.outcome).toMatchObject({ type: 'unsupported', keyword: 'uniqueItems' });
    const timeout = runSchemaFile('t.json', FILE, tokensContext(), Date.now() - 1);
    expect(timeout.outcome).toEqual({ type: 'timeout' });
  });

  test('runMaskBench writes every SPEC §6 key; --limit takes a hashed sample', async () => {
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'maskbench-'));
    try {
      fs.writeFileSync(path.join(directory, 'a.json'), FILE);
      fs.writeFileSync(path.join(directory, 'b.json'), JSON.stringify({ schema: { type: 'array', uniqueItems: true }, tests: [{ data: [1], valid: true }] }));
      fs.writeFileSync(path.join(directory, 'c.json'), JSON.stringify({ schema: { enum: ['x', 'y'] }, tests: [{ data: 'x', valid: true }, { data: 'z', valid: false }] }));
      expect(listMaskBenchFiles(directory).sort()).toEqual(['a.json', 'b.json', 'c.json']);
      expect(listMaskBenchFiles(directory, 2)).toEqual(listMaskBenchFiles(directory).slice(0, 2));
      const { result } = await runMaskBench({ dataDir: directory, tokenizer: 'gpt2', mode: 'text', inProcess: true });
      expect(Object.keys(result)).toEqual([
        'engine', 'tokenizer', 'vocab_size', 'schemas', 'passing', 'compile_errors', 'unsupported', 'validation_errors',
        'invalidation_errors', 'timeouts', 'tbm_us', 'tbm_over_1ms_share', 'ttfm_us',
      ]);
      expect(Object.keys(result.tbm_us)).toEqual(['avg', 'p50', 'p90', 'p99', 'p999', 'max']);
      expect(Object.keys(result.ttfm_us)).toEqual(['avg', 'p50', 'p99', 'max']);
      expect(result).toMatchObject({ schemas: 3, passing: 2, unsupported: { uniqueItems: 1 }, validation_errors: 0, invalidation_errors: 0, timeouts: 0 });
    } finally {
      fs.rmSync(directory, { recursive: true, force: true });
    }
  });
});
