/**
 * Property tests of the masks, on a small byte-complete vocabulary (so that every token can be checked):
 *  - random walks never reach a dead end (an empty mask while the text is incomplete);
 *  - the mask is exact: a token is in it iff the Earley chart accepts its bytes (brute force over the
 *    whole vocabulary — this checks the token-class cache and the trie walks against the parser);
 *  - sampled allowed tokens are viable prefixes for the independent ReferenceRecognizer, and sampled
 *    rejected tokens (whole characters) are not.
 */
import fs from 'node:fs';
import path from 'node:path';
import { compileConstraint, gbnfToGrammar } from '../../../src/decoding/compile-constraint';
import { TokenMask } from '../../../src/decoding/token-mask';
import { ReferenceRecognizer } from './helpers/reference-recognizer';
import { nthAllowed, seededRandom, smallVocabulary } from './helpers/test-vocabularies';

const GRAMMARS_DIR = path.resolve(__dirname, '../../../grammars');
const decoder = new TextDecoder('utf-8', { fatal: true });

const EXTRA: Record<string, string> = {
  'left-recursive': 'root ::= expr\nexpr ::= expr ("+" | "-") term | term\nterm ::= [0-9]+ | "(" expr ")"\n',
  ambiguous: 'root ::= a a "!"\na ::= "x"* | "x" "y"? | b\nb ::= "x" b | ""\n',
  nullable: 'root ::= b c "!" b\nb ::= "b"?\nc ::= b b | c "c"\n',
  'json-ws': fs.readFileSync(path.join(GRAMMARS_DIR, 'json.gbnf'), 'utf8'),
};

function grammarSources(): Array<[string, string]> {
  const shipped = ['json_arr', 'arithmetic', 'list', 'chess', 'c', 'iso-date', 'sql-select', 'answer-with-reason'];
  return [...shipped.map((name) => [name, fs.readFileSync(path.join(GRAMMARS_DIR, `${name}.gbnf`), 'utf8')] as [string, string]), ...Object.entries(EXTRA)];
}

function decodes(bytes: number[]): string | null {
  try {
    return decoder.decode(Uint8Array.from(bytes));
  } catch {
    return null;
  }
}

describe('mask properties (small vocabulary)', () => {
  test.each(grammarSources())('%s', (name, source) => {
    const vocabulary = smallVocabulary();
    const reference = new ReferenceRecognizer(gbnfToGrammar(source));
    const compiled = compileConstraint({ type: 'grammar', grammar: source }, undefined, vocabulary);
    const eos = vocabulary.eosTokenIds[0];
    const mask = new TokenMask(vocabulary.size);
    let checkedPrefixes = 0;
    for (let seed = 1; seed <= 4; seed++) {
      const random = seededRandom(seed * 104729);
      const session = compiled.start();
      const shadow = compiled.grammar!.matcher();
      const bytes: number[] = [];
      for (let step = 0; step < 40 && !session.finished; step++) {
        session.mask(mask);
        const count = mask.count();
        expect(count).toBeGreaterThan(0); // never a dead end
        // Exactness against the chart, token by token.
        for (let id = 0; id < vocabulary.size; id++) {
          if (id === eos) {
            expect(mask.has(id)).toBe(shadow.accepting());
            continue;
          }
          const tokenBytes = vocabulary.tokenBytes(id)!;
          if (mask.has(id) !== shadow.tryBytes(tokenBytes)) {
            throw new Error(`${name}: token ${id} ${JSON.stringify(decodes([...tokenBytes]))} mask ${mask.has(id)} chart ${!mask.has(id)} after ${JSON.stringify(decodes(bytes))}`);
          }
        }
        // Independent prefix checks on a sample of allowed and rejected tokens.
        for (let sample = 0; sample < 6; sample++) {
          const id = Math.floor(random() * (vocabulary.size - 1));
          const text = decodes([...bytes, ...vocabulary.tokenBytes(id)!]);
          if (text === null) continue;
          if (reference.isPrefix(text) !== mask.has(id)) {
            throw new Error(`${name}: reference prefix check ${!mask.has(id)} but mask ${mask.has(id)} for ${JSON.stringify(text)}`);
          }
          checkedPrefixes++;
        }
        const token = nthAllowed(mask, Math.floor(random() * count));
        if (token === eos) break;
        expect(session.advance(token)).toBe(true);
        expect(shadow.advanceBytes(vocabulary.tokenBytes(token)!)).toBe(true);
        bytes.push(...vocabulary.tokenBytes(token)!);
      }
    }
    expect(checkedPrefixes).toBeGreaterThan(20);
  });
});
