/**
 * Session behaviour on the real GPT-2 vocabulary: lexical exclude (also across token boundaries),
 * include gating of EOS and forcing within the token budget, jump-forward tokens, EOS/finished/failed
 * semantics, and compileConstraint's cache, named files and errors.
 */
import { clearConstraintCache, compileConstraint } from '../../../src/decoding/compile-constraint';
import { TokenMask } from '../../../src/decoding/token-mask';
import { GatewayError } from '../../../src/errors/gateway-error';
import { BYTE_VOCABULARY, sessionAccepts } from './helpers/byte-vocabulary';
import { gpt2Vocabulary, nthAllowed, randomWalk, seededRandom } from './helpers/test-vocabularies';

const encoder = new TextEncoder();

function tokenOf(text: string): number {
  const vocabulary = gpt2Vocabulary();
  const ids = vocabulary.encode(text);
  if (ids.length !== 1) throw new Error(`'${text}' is not one GPT-2 token: ${ids}`);
  return ids[0];
}

function textOf(ids: number[]): string {
  const vocabulary = gpt2Vocabulary();
  return new TextDecoder().decode(Uint8Array.from(ids.flatMap((id) => [...(vocabulary.tokenBytes(id) ?? [])])));
}

describe('lexical exclude', () => {
  test('an excluded phrase never appears in random walks, also across token boundaries', () => {
    const vocabulary = gpt2Vocabulary();
    const compiled = compileConstraint(undefined, { exclude: ['the', 'ing'] }, vocabulary);
    for (let seed = 1; seed <= 10; seed++) {
      const walk = randomWalk(compiled.start(), vocabulary, seed, 40);
      expect(walk.text).not.toMatch(/the|ing/);
    }
    // Across a boundary: after "t", the token "he" is masked but "ha" is not.
    const session = compiled.start();
    expect(session.advance(tokenOf('t'))).toBe(true);
    const mask = new TokenMask(vocabulary.size);
    session.mask(mask);
    expect(mask.has(tokenOf('he'))).toBe(false);
    expect(mask.has(tokenOf('ha'))).toBe(true);
    expect(session.advance(tokenOf('he'))).toBe(false);
    expect(session.failed).toBe(true);
  });

  test('whole_word and ignore_case semantics', () => {
    const byWord = compileConstraint(undefined, { exclude: [{ phrase: 'cat', whole_word: true, ignore_case: true }] }, BYTE_VOCABULARY);
    expect(sessionAccepts(byWord.start(), 'concatenate cats')).toBe(true);
    expect(sessionAccepts(byWord.start(), 'a CAT.')).toBe(false);
    expect(sessionAccepts(byWord.start(), 'Cat')).toBe(false); // ends the text: EOS is masked
    expect(sessionAccepts(byWord.start(), 'cat5')).toBe(true);
  });

  test('exclude combines with a grammar', () => {
    const vocabulary = gpt2Vocabulary();
    const compiled = compileConstraint({ type: 'grammar', name: 'json' }, { exclude: ['password'] }, vocabulary);
    for (let seed = 1; seed <= 5; seed++) {
      const walk = randomWalk(compiled.start({ maxTokens: 120 }), vocabulary, seed * 31, 120);
      expect(walk.text).not.toContain('password');
    }
  });
});

describe('lexical include', () => {
  test('EOS stays masked until every include has appeared', () => {
    const compiled = compileConstraint(undefined, { include: ['alpha', { phrase: 'Beta', ignore_case: true }] }, BYTE_VOCABULARY);
    expect(sessionAccepts(compiled.start(), 'alpha and BETA')).toBe(true);
    expect(sessionAccepts(compiled.start(), 'alpha only')).toBe(false);
  });

  test('includes are forced when the budget runs short, so they appear within max_tokens', () => {
    const vocabulary = gpt2Vocabulary();
    const compiled = compileConstraint(undefined, { include: ['hello world', 'Rein'] }, vocabulary);
    for (let seed = 1; seed <= 5; seed++) {
      const maxTokens = 8 + seed;
      const session = compiled.start({ maxTokens });
      const random = seededRandom(seed);
      const mask = new TokenMask(vocabulary.size);
      const tokens: number[] = [];
      while (tokens.length < maxTokens && !session.accepting) {
        const forced = session.forced();
        session.mask(mask);
        mask.forbid(vocabulary.eosTokenIds[0]);
        const token = forced.length > 0 ? forced[0] : nthAllowed(mask, Math.floor(random() * mask.count()));
        expect(session.advance(token)).toBe(true);
        tokens.push(token);
      }
      const text = textOf(tokens);
      expect(tokens.length).toBeLessThanOrEqual(maxTokens);
      expect(text).toContain('hello world');
      expect(text).toContain('Rein');
      expect(session.accepting).toBe(true);
    }
  });

  test('forcing respects the grammar', () => {
    const vocabulary = gpt2Vocabulary();
    const compiled = compileConstraint({ type: 'regex', pattern: '[a-z ]+' }, { include: ['needle'] }, vocabulary);
    const walk = randomWalk(compiled.start({ maxTokens: 12 }), vocabulary, 3, 12);
    expect(walk.text).toContain('needle');
    expect(walk.text).toMatch(/^[a-z ]+$/);
  });

  test('an include the constraint can never produce is a 422 at compile time', () => {
    const vocabulary = gpt2Vocabulary();
    for (const spec of [
      { type: 'choice' as const, choices: ['yes', 'no'] },
      { type: 'regex' as const, pattern: '[0-9]+' },
    ]) {
      let error: unknown;
      try {
        compileConstraint(spec, { include: ['maybe'] }, vocabulary);
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(GatewayError);
      expect((error as GatewayError).code).toBe('constraint_invalid');
      expect((error as GatewayError).param).toBe('/lexical/include/0');
    }
    expect(() => compileConstraint({ type: 'choice', choices: ['no', 'maybe so'] }, { include: ['maybe'] }, vocabulary)).not.toThrow();
  });
});

describe('jump-forward and end of generation', () => {
  test('forced tokens are the canonical tokenization, holding back the last token', () => {
    const vocabulary = gpt2Vocabulary();
    const compiled = compileConstraint({ type: 'grammar', grammar: 'root ::= "The answer is: " [0-9]+ "."\n' }, undefined, vocabulary);
    const session = compiled.start();
    const forced = session.forced();
    const canonical = vocabulary.encode('The answer is: ');
    expect(forced.length).toBeGreaterThan(0);
    expect(forced).toEqual(canonical.slice(0, forced.length));
    expect(forced.length).toBe(canonical.length - 1);
    for (const token of forced) expect(session.advance(token)).toBe(true);
    const mask = new TokenMask(vocabulary.size);
    session.mask(mask);
    expect(mask.has(tokenOf(' 4'))).toBe(true);
    expect(mask.has(tokenOf(':'))).toBe(false);
  });

  test('a single choice is forced completely, then only EOS remains (finished)', () => {
    const vocabulary = gpt2Vocabulary();
    const session = compileConstraint({ type: 'choice', choices: ['hello world'] }, undefined, vocabulary).start();
    const forced = session.forced();
    expect(textOf(forced)).toBe('hello world');
    expect(session.finished).toBe(false);
    for (const token of forced) expect(session.advance(token)).toBe(true);
    expect(session.accepting).toBe(true);
    expect(session.finished).toBe(true);
    const mask = new TokenMask(vocabulary.size);
    session.mask(mask);
    expect([...mask.allowed()]).toEqual([...vocabulary.eosTokenIds]);
    expect(session.advance(vocabulary.eosTokenIds[0])).toBe(true);
  });

  test('EOS only when accepting; failure is sticky', () => {
    const vocabulary = gpt2Vocabulary();
    const session = compileConstraint({ type: 'choice', choices: ['yes', 'yes please'] }, undefined, vocabulary).start();
    const mask = new TokenMask(vocabulary.size);
    session.mask(mask);
    expect(mask.has(vocabulary.eosTokenIds[0])).toBe(false);
    expect(session.advance(tokenOf('yes'))).toBe(true);
    session.mask(mask);
    expect(mask.has(vocabulary.eosTokenIds[0])).toBe(true);
    expect(mask.has(tokenOf(' please'))).toBe(true);
    expect(session.finished).toBe(false);
    expect(session.advance(tokenOf(' no'))).toBe(false);
    expect(session.failed).toBe(true);
    session.mask(mask);
    expect(mask.count()).toBe(0);
    expect(session.advance(tokenOf(' please'))).toBe(false);
    expect(session.forced()).toEqual([]);
  });
});

describe('compileConstraint', () => {
  test('cache: identical specs share one compiled object; the key carries the vocabulary', () => {
    clearConstraintCache();
    const vocabulary = gpt2Vocabulary();
    const first = compileConstraint({ type: 'regex', pattern: '[0-9]+' }, undefined, vocabulary);
    const second = compileConstraint({ type: 'regex', pattern: '[0-9]+' }, undefined, vocabulary);
    expect(second).toBe(first);
    expect(first.key.endsWith('@' + vocabulary.id)).toBe(true);
    const other = compileConstraint({ type: 'regex', pattern: '[0-9]+' }, undefined, BYTE_VOCABULARY);
    expect(other).not.toBe(first);
    expect(compileConstraint({ type: 'grammar', name: 'json' }, undefined, vocabulary)).toBe(compileConstraint({ type: 'json_object' }, undefined, vocabulary));
  });

  test.each([
    [{ type: 'grammar', name: 'no-such-grammar' }, 'not_found'],
    [{ type: 'grammar', name: '../package' }, 'invalid_request'],
    [{ type: 'grammar' }, 'invalid_request'],
    [{ type: 'choice', choices: [] }, 'invalid_request'],
    [{ type: 'regex', pattern: 42 }, 'invalid_request'],
    [{ type: 'json_schema' }, 'invalid_request'],
    [{ type: 'telepathy' }, 'constraint_unsupported'],
  ])('%j → %s', (spec, code) => {
    let error: unknown;
    try {
      compileConstraint(spec as never, undefined, BYTE_VOCABULARY);
    } catch (caught) {
      error = caught;
    }
    expect((error as GatewayError).code).toBe(code);
  });

  test('empty lexical phrases are a 400; too many phrases a 422', () => {
    expect(() => compileConstraint(undefined, { include: [''] }, BYTE_VOCABULARY)).toThrow(GatewayError);
    const many = Array.from({ length: 300 }, (_, i) => `p${i}`);
    try {
      compileConstraint(undefined, { exclude: many }, BYTE_VOCABULARY);
      throw new Error('expected an error');
    } catch (error) {
      expect((error as GatewayError).code).toBe('constraint_invalid');
    }
  });

  test('unconstrained sessions allow every text token and EOS', () => {
    const vocabulary = gpt2Vocabulary();
    const session = compileConstraint(undefined, undefined, vocabulary).start();
    const mask = new TokenMask(vocabulary.size);
    session.mask(mask);
    expect(mask.count()).toBe(vocabulary.size);
    expect(encoder.encode('x').length).toBe(1);
  });
});

describe('json_schema through compileConstraint', () => {
  test('walks produce JSON that has the required property with the right type', () => {
    const vocabulary = gpt2Vocabulary();
    const schema = { type: 'object', properties: { count: { type: 'integer' }, label: { type: 'string', maxLength: 8 } }, required: ['count', 'label'], additionalProperties: false };
    const compiled = compileConstraint({ type: 'json_schema', schema }, undefined, vocabulary);
    let complete = 0;
    for (let seed = 1; seed <= 8; seed++) {
      const walk = randomWalk(compiled.start({ maxTokens: 80 }), vocabulary, seed * 13, 80);
      expect(walk.ended).not.toBe('dead-end');
      if (walk.ended === 'length') continue;
      complete++;
      const value = JSON.parse(walk.text) as { count: unknown; label: unknown };
      expect(Number.isInteger(value.count)).toBe(true);
      expect(typeof value.label).toBe('string');
      expect((value.label as string).length).toBeLessThanOrEqual(8);
    }
    expect(complete).toBeGreaterThan(3);
  });
});

describe('run-time bounds', () => {
  test('an exploding ambiguous parse hits maxItemsPerSet: a typed error and a failed session, not a hang', () => {
    // Every split of the a's is a parse: the item count per set grows with the position.
    const grammar = 'root ::= x\nx ::= x x | "a" | ""\n';
    const compiled = compileConstraint({ type: 'grammar', grammar }, undefined, BYTE_VOCABULARY, { limits: { maxItemsPerSet: 40 } });
    const session = compiled.start();
    let error: unknown;
    try {
      for (let i = 0; i < 200; i++) session.advance(0x61);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(GatewayError);
    expect((error as GatewayError).code).toBe('constraint_invalid');
    expect((error as GatewayError).details).toMatchObject({ limit: 'maxItemsPerSet' });
    expect(session.failed).toBe(true);
    expect(session.advance(0x61)).toBe(false);
  });
});

describe('warm state sharing', () => {
  test('constraints over the same grammar share one bound grammar (token classes), whatever the lexical phrases', () => {
    const vocabulary = gpt2Vocabulary();
    const plain = compileConstraint({ type: 'grammar', name: 'json' }, undefined, vocabulary);
    const withLexical = compileConstraint({ type: 'grammar', name: 'json' }, { exclude: ['password'] }, vocabulary);
    expect(withLexical).not.toBe(plain);
    expect(withLexical.grammar).toBe(plain.grammar);
    const other = compileConstraint({ type: 'grammar', name: 'json_arr' }, undefined, vocabulary);
    expect(other.grammar).not.toBe(plain.grammar);
  });
});

describe('SentencePiece-style vocabulary (tiny-llama fixture)', () => {
  const fs = require('node:fs') as typeof import('node:fs');
  const path = require('node:path') as typeof import('node:path');
  const { loadVocabularyFromFile } = require('../../../src/decoding/vocabulary-from-tokenizer') as typeof import('../../../src/decoding/vocabulary-from-tokenizer');
  const file = path.resolve(__dirname, '../../fixtures/models/tiny-llama/tokenizer.json');
  const maybe = fs.existsSync(file) ? test : test.skip;
  maybe('jump-forward works despite the dummy-prefix space (first token re-split)', () => {
    const vocabulary = loadVocabularyFromFile(file);
    const session = compileConstraint({ type: 'choice', choices: ['hello world'] }, undefined, vocabulary).start();
    const forced = session.forced();
    expect(forced.length).toBeGreaterThan(0);
    const text = new TextDecoder().decode(Uint8Array.from(forced.flatMap((id) => [...vocabulary.tokenBytes(id)!])));
    expect(text).toBe('hello world');
    for (const token of forced) expect(session.advance(token)).toBe(true);
    expect(session.finished).toBe(true);
  });
});
