/**
 * Seeded random generations through the engine's masks for every shipped grammar (GPT-2 vocabulary):
 * each walk must reach an accepting end, and its text must be accepted by the independent
 * character-level ReferenceRecognizer — and by JSON.parse for the JSON grammars. A walk that runs out
 * of its token budget is still checked as a prefix, and too many of those fail the suite.
 */
import fs from 'node:fs';
import path from 'node:path';
import { compileConstraint, gbnfToGrammar } from '../../../src/decoding/compile-constraint';
import { ReferenceRecognizer } from './helpers/reference-recognizer';
import { loadVocabularyFromFile } from '../../../src/decoding/vocabulary-from-tokenizer';
import { gpt2Vocabulary, randomWalk } from './helpers/test-vocabularies';

const GRAMMARS_DIR = path.resolve(__dirname, '../../../grammars');
const SHIPPED = ['json', 'json_arr', 'arithmetic', 'list', 'chess', 'c', 'iso-date', 'sql-select', 'answer-with-reason'];
const WALKS = 20;

describe('random constrained walks (GPT-2 vocabulary)', () => {
  test.each(SHIPPED)('%s: 20 seeded walks end accepted by the reference recognizer', (name) => {
    const vocabulary = gpt2Vocabulary();
    const source = fs.readFileSync(path.join(GRAMMARS_DIR, `${name}.gbnf`), 'utf8');
    const reference = new ReferenceRecognizer(gbnfToGrammar(source));
    const compiled = compileConstraint({ type: 'grammar', name }, undefined, vocabulary);
    let complete = 0;
    for (let seed = 1; seed <= WALKS; seed++) {
      const walk = randomWalk(compiled.start({ maxTokens: 300 }), vocabulary, seed * 7919, 300);
      expect(walk.ended).not.toBe('dead-end');
      if (walk.ended === 'eos' || walk.ended === 'finished') {
        complete++;
        if (!reference.matches(walk.text)) throw new Error(`${name} seed ${seed}: reference rejects ${JSON.stringify(walk.text)}`);
        if (name === 'json' || name === 'json_arr') expect(() => JSON.parse(walk.text)).not.toThrow();
      } else {
        const whole = walk.text.replace(/[\uFFFD]+$/, '');
        if (!reference.isPrefix(whole)) throw new Error(`${name} seed ${seed}: reference rejects prefix ${JSON.stringify(whole)}`);
      }
    }
    // Most walks must finish: the finishing phase prefers EOS and closing characters.
    expect(complete).toBeGreaterThanOrEqual(WALKS * 0.6);
  });
});

const TINY = ['tiny-gpt2', 'tiny-llama'].filter((name) => fs.existsSync(path.resolve(__dirname, `../../fixtures/models/${name}/tokenizer.json`)));

describe('random constrained walks (tiny fixture vocabularies)', () => {
  test.each(TINY.flatMap((model) => ['json', 'c', 'sql-select'].map((grammar) => [model, grammar])))('%s / %s', (model, name) => {
    const vocabulary = loadVocabularyFromFile(path.resolve(__dirname, `../../fixtures/models/${model}/tokenizer.json`));
    const reference = new ReferenceRecognizer(gbnfToGrammar(fs.readFileSync(path.join(GRAMMARS_DIR, `${name}.gbnf`), 'utf8')));
    const compiled = compileConstraint({ type: 'grammar', name }, undefined, vocabulary);
    let complete = 0;
    for (let seed = 1; seed <= 10; seed++) {
      const walk = randomWalk(compiled.start({ maxTokens: 300 }), vocabulary, seed * 104729, 300);
      expect(walk.ended).not.toBe('dead-end');
      if (walk.ended === 'length') continue;
      complete++;
      if (!reference.matches(walk.text)) throw new Error(`${model}/${name} seed ${seed}: reference rejects ${JSON.stringify(walk.text)}`);
      if (name === 'json') expect(() => JSON.parse(walk.text)).not.toThrow();
    }
    expect(complete).toBeGreaterThanOrEqual(5);
  });
});
