/**
 * The gateway's path: compileConstraint({type: 'json_schema'}) (the engine's entry) reaches this
 * compiler through compileJsonSchema(schema, options) and enforces the schema token by token;
 * `ref` names a file in constraints/.
 */
import path from 'node:path';
import { compileConstraint } from '../../../src/decoding/compile-constraint';
import { TokenMask } from '../../../src/decoding/token-mask';
import { loadVocabularyFromFile } from '../../../src/decoding/vocabulary-from-tokenizer';

const vocabulary = loadVocabularyFromFile(path.resolve(__dirname, '../../fixtures/models/tiny-gpt2/tokenizer.json'), { id: 'tiny-gpt2' });

function accepts(spec: Parameters<typeof compileConstraint>[0], text: string): boolean {
  const session = compileConstraint(spec, undefined, vocabulary, { constraintsDir: path.resolve(__dirname, '../../../constraints') }).start();
  const mask = new TokenMask(vocabulary.size);
  for (const token of vocabulary.encode(text)) {
    session.mask(mask);
    if (!mask.has(token) || !session.advance(token)) return false;
  }
  session.mask(mask);
  return vocabulary.eosTokenIds.some((id) => mask.has(id));
}

describe('compileConstraint → JSON Schema', () => {
  test('inline schema', () => {
    const spec = { type: 'json_schema' as const, schema: { type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'], additionalProperties: false } };
    expect(accepts(spec, '{"ok":true}')).toBe(true);
    expect(accepts(spec, '{"ok":1}')).toBe(false);
    expect(accepts({ ...spec, whitespace: 'python' }, '{"ok": false}')).toBe(true);
  });

  test('named schema from constraints/', () => {
    const spec = { type: 'json_schema' as const, ref: 'ticket' };
    expect(accepts(spec, '{"category":"billing","priority":"low","summary":"x","needs_human":false}')).toBe(true);
    expect(accepts(spec, '{"category":"sales","priority":"low","summary":"x","needs_human":false}')).toBe(false);
  });

  test('unsupported keywords fail closed through the engine entry', () => {
    expect(() => compileConstraint({ type: 'json_schema', schema: { type: 'array', uniqueItems: true } }, undefined, vocabulary)).toThrow(
      expect.objectContaining({ code: 'constraint_unsupported', details: { keyword: 'uniqueItems', pointer: '/uniqueItems' } }),
    );
  });
});
