/**
 * Front ends: GBNF and regex parsing into the Grammar IR, compile errors with line:column, the
 * fail-closed refusals (constraint_unsupported), the limits, and the llama.cpp GBNF corpus
 * (../shared/data/gbnf: every file must compile).
 */
import fs from 'node:fs';
import { compileConstraint, gbnfToGrammar } from '../../../src/decoding/compile-constraint';
import { compileGrammar } from '../../../src/decoding/compile-grammar';
import { parseRegex } from '../../../src/decoding/engine/regex-parser';
import { DEFAULT_CONSTRAINT_LIMITS } from '../../../src/decoding/constraint-limits';
import { GatewayError } from '../../../src/errors/gateway-error';
import { describeWithSharedData, sharedDataPath } from '../../helpers/shared-data';
import { BYTE_VOCABULARY, sessionAccepts } from './helpers/byte-vocabulary';

function errorOf(action: () => unknown): GatewayError {
  try {
    action();
  } catch (error) {
    if (error instanceof GatewayError) return error;
    throw error;
  }
  throw new Error('expected a GatewayError');
}

describe('GBNF parser', () => {
  test('rules, comments, groups and repetition', () => {
    const grammar = gbnfToGrammar('# comment\nroot ::= a+ ( "x" | [0-9]{2,3} )? # tail\na ::= "a"\n');
    expect([...grammar.rules.keys()]).toEqual(['root', 'a']);
    expect(grammar.start).toBe('root');
  });

  test.each([
    ['root ::= "abc\n', 1, 10, /unterminated literal/],
    ['root ::= a\n', 1, 10, /undefined rule 'a'/],
    ['root ::= "a"\n\nfoo ::= [ab\n', 3, 9, /unterminated character class/],
    ['x ::= "a"\n', 1, 1, /no 'root' rule/],
    ['root ::= "a" )\n', 1, 14, /expecting end of rule/],
    ['root ::= ("a"\n', 2, 1, /expecting '\)'/],
    ['root ::= "\\q"\n', 1, 11, /unknown escape/],
    ['root ::= "a"\nroot ::= "b"\n', 2, 1, /defined twice/],
    ['root :: "a"\n', 1, 6, /expecting '::='/],
    ['root ::= [z-a]\n', 1, 10, /out of order/],
  ])('error %#: line:column', (source, line, column, message) => {
    const error = errorOf(() => gbnfToGrammar(source));
    expect(error.code).toBe('constraint_invalid');
    expect(error.status).toBe(422);
    expect(error.details).toMatchObject({ line, column });
    expect(error.message).toMatch(message);
    expect(error.message).toContain(`${line}:${column}`);
  });

  test('token references are refused, not ignored', () => {
    expect(errorOf(() => gbnfToGrammar('root ::= <[1000]>\n')).code).toBe('constraint_unsupported');
  });

  test('limits: repeat count, nesting, rule count, source length', () => {
    expect(errorOf(() => gbnfToGrammar('root ::= "a"{5000}\n')).details).toMatchObject({ limit: 'maxRepeat' });
    expect(errorOf(() => gbnfToGrammar('root ::= ' + '('.repeat(200) + '"a"' + ')'.repeat(200) + '\n')).details).toMatchObject({ limit: 'maxNesting' });
    const many = Array.from({ length: 30 }, (_, i) => `r${i} ::= "x"`).join('\n');
    expect(errorOf(() => gbnfToGrammar(`root ::= r0\n${many}\n`, { maxRules: 10 })).details).toMatchObject({ limit: 'maxRules' });
    expect(errorOf(() => gbnfToGrammar('root ::= "a"\n', { maxSourceLength: 5 })).details).toMatchObject({ limit: 'maxSourceLength' });
  });

  test('a grammar that matches nothing is rejected at compile time', () => {
    const error = errorOf(() => compileConstraint({ type: 'grammar', grammar: 'root ::= a\na ::= "x" a\n' }, undefined, BYTE_VOCABULARY));
    expect(error.code).toBe('constraint_invalid');
    expect(error.message).toMatch(/matches no text/);
  });

  test('DFA and NFA state limits are typed errors, not hangs', () => {
    const blowup = '(a|b)*a(a|b){14}';
    const error = errorOf(() => compileConstraint({ type: 'regex', pattern: blowup }, undefined, BYTE_VOCABULARY, { limits: { maxDfaStates: 1000 } }));
    expect(error.details).toMatchObject({ limit: 'maxDfaStates' });
    const big = errorOf(() => compileConstraint({ type: 'regex', pattern: '[a-z]{1000}[0-9]{1000}' }, undefined, BYTE_VOCABULARY, { limits: { maxNfaStates: 500 } }));
    expect(big.details).toMatchObject({ limit: 'maxNfaStates' });
  });
});

describe('regex parser', () => {
  const limits = DEFAULT_CONSTRAINT_LIMITS;
  test.each([
    ['(a)\\1', /backreferences/],
    ['\\k<x>', /backreferences/],
    ['a(?=b)', /lookaround/],
    ['a(?!b)', /lookaround/],
    ['(?<=a)b', /lookaround/],
    ['\\bword', /word boundaries/],
    ['\\p{L}+', /Unicode property/],
    ['a^b', /'\^'/],
    ['a$b', /'\$'/],
    ['(^a)', /'\^' inside a group/],
  ])('%s is constraint_unsupported', (pattern, message) => {
    const error = errorOf(() => parseRegex(pattern, { limits }));
    expect(error.code).toBe('constraint_unsupported');
    expect(error.message).toMatch(message);
  });

  test.each([
    ['a{2,1}', 2],
    ['(ab', 1],
    ['[ab', 1],
    ['*a', 1],
    ['a)', 2],
    ['[z-a]', 3],
  ])('%s is constraint_invalid with a column', (pattern, column) => {
    const error = errorOf(() => parseRegex(pattern, { limits }));
    expect(error.code).toBe('constraint_invalid');
    expect(error.details).toMatchObject({ line: 1, column });
  });

  test('regex semantics match JavaScript on random strings', () => {
    const patterns: Array<[string, string[]]> = [
      ['a*b?c+', ['a', 'b', 'c']],
      ['(ab|a)(bc|c)', ['a', 'b', 'c']],
      ['[^abc]{1,3}x', ['a', 'x', 'y', 'é', '\n']],
      ['\\d+(\\.\\d+)?', ['1', '2', '.', 'a']],
      ['(?:x|yz){2,}', ['x', 'y', 'z']],
      ['[\\s\\S]{2}', ['a', ' ', '\n', '日']],
      ['.{0,2}é', ['a', 'é', '\n', '\r']],
      ['[a-c-]+', ['a', 'c', '-', 'd']],
    ];
    let seed = 7;
    const random = (): number => ((seed = (seed * 48271) % 2147483647) / 2147483647);
    for (const [pattern, alphabet] of patterns) {
      const compiled = compileConstraint({ type: 'regex', pattern }, undefined, BYTE_VOCABULARY);
      const oracle = new RegExp(`^(?:${pattern})$`, 'u');
      let matched = 0;
      for (let i = 0; i < 300; i++) {
        const length = Math.floor(random() * 6);
        const text = Array.from({ length }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
        const expected = oracle.test(text);
        if (expected) matched++;
        expect([pattern, text, sessionAccepts(compiled.start(), text)]).toEqual([pattern, text, expected]);
      }
      expect(matched).toBeGreaterThan(0);
    }
  });
});

describe('regex leaves inside grammars (the JSON Schema compiler emits them)', () => {
  test('a regex leaf is a lexeme of the grammar', () => {
    const grammar = {
      start: 'root',
      rules: new Map([
        ['root', { type: 'seq' as const, items: [{ type: 'literal' as const, text: '"' }, { type: 'regex' as const, pattern: '[a-z]{2,3}' }, { type: 'literal' as const, text: '"' }] }],
      ]),
    };
    const compiled = compileGrammar(grammar, BYTE_VOCABULARY);
    expect(sessionAccepts(compiled.start(), '"abc"')).toBe(true);
    expect(sessionAccepts(compiled.start(), '"a"')).toBe(false);
    expect(sessionAccepts(compiled.start(), '"abcd"')).toBe(false);
  });
});

describeWithSharedData('llama.cpp GBNF corpus', ['gbnf'], () => {
  const files = fs.existsSync(sharedDataPath('gbnf')) ? fs.readdirSync(sharedDataPath('gbnf')).filter((file) => file.endsWith('.gbnf')) : [];
  test.each(files)('%s compiles', (file) => {
    const source = fs.readFileSync(sharedDataPath('gbnf', file), 'utf8');
    const compiled = compileConstraint({ type: 'grammar', grammar: source }, undefined, BYTE_VOCABULARY);
    expect(compiled.automaton!.stateCount).toBeGreaterThan(1);
  });
});
