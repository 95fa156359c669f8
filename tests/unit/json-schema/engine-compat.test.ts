/**
 * The schema grammars run on the real engine (tiny GPT-2 vocabulary): every whitespace layout, an
 * unsatisfiable schema (an empty alternative), recursion, patterns with escapes, large bounded strings.
 */
import path from 'node:path';
import { TokenMask } from '../../../src/decoding/token-mask';
import { compileJsonSchema } from '../../../src/decoding/json-schema';
import { loadVocabularyFromFile } from '../../../src/decoding/vocabulary-from-tokenizer';
import type { CompiledConstraint } from '../../../src/decoding/constraint';
import type { Vocabulary } from '../../../src/decoding/vocabulary';

const vocabulary: Vocabulary = loadVocabularyFromFile(path.resolve(__dirname, '../../fixtures/models/tiny-gpt2/tokenizer.json'), { id: 'tiny-gpt2' });

function accepts(constraint: CompiledConstraint, text: string): boolean {
  const session = constraint.start();
  const mask = new TokenMask(vocabulary.size);
  for (const token of vocabulary.encode(text)) {
    session.mask(mask);
    if (!mask.has(token) || !session.advance(token)) return false;
  }
  session.mask(mask);
  return vocabulary.eosTokenIds.some((id) => mask.has(id));
}

describe('JSON Schema grammars on the engine', () => {
  test.each([
    ['compact', '{"a":[1,2],"s":"x\\"y"}', '{"a": [1, 2], "s": "x\\"y"}'],
    ['python', '{"a": [1, 2], "s": "x\\"y"}', '{"a":[1,2],"s":"x\\"y"}'],
    ['flexible', '{ "a" : [ 1 , 2 ] ,\n "s": "x\\"y" }', '{"a":[1,2],"s":"x\\"y",}'],
  ] as const)('%s layout', (whitespace, good, bad) => {
    const schema = { type: 'object', properties: { a: { type: 'array', items: { type: 'integer' } }, s: { type: 'string', pattern: '^x"' } }, additionalProperties: false };
    const constraint = compileJsonSchema(schema, vocabulary, { whitespace });
    expect(accepts(constraint, good)).toBe(true);
    expect(accepts(constraint, bad)).toBe(false);
  });

  test('recursion, bounded strings and an impossible branch', () => {
    const schema = {
      $defs: { tree: { type: 'object', properties: { name: { type: 'string', maxLength: 120 }, never: false, kids: { type: 'array', items: { $ref: '#/$defs/tree' } } }, required: ['name'] } },
      $ref: '#/$defs/tree',
    };
    const constraint = compileJsonSchema(schema, vocabulary);
    expect(accepts(constraint, '{"name":"r","kids":[{"name":"c","kids":[]}]}')).toBe(true);
    expect(accepts(constraint, `{"name":"${'x'.repeat(121)}"}`)).toBe(false);
    expect(accepts(constraint, '{"name":"r","never":1}')).toBe(false);
  });

  test('a schema that accepts nothing is refused by the engine (constraint_invalid), never widened', () => {
    expect(() => compileJsonSchema(false, vocabulary)).toThrow(expect.objectContaining({ code: 'constraint_invalid' }));
    expect(() => compileJsonSchema({ type: 'object', required: ['a'], properties: { a: false } }, vocabulary)).toThrow(expect.objectContaining({ code: 'constraint_invalid' }));
  });
});
