/**
 * Golden cases per constraint format (tests/golden/decoding/cases.json: spec, lexical, accept[], reject[])
 * fed byte by byte through real sessions, compared with the expected-results ledger
 * (tests/golden/decoding/ledger.json), so both regressions and fixes show up as diffs.
 * Regenerate the ledger with `UPDATE_GOLDEN=1 npx jest tests/unit/decoding/golden`, then review the diff.
 * Every regex case is also checked against JavaScript's own RegExp (an independent oracle).
 */
import fs from 'node:fs';
import path from 'node:path';
import { compileConstraint } from '../../../src/decoding/compile-constraint';
import type { ConstraintSpec, LexicalSpec } from '../../../src/decoding/constraint';
import { BYTE_VOCABULARY, sessionAccepts } from './helpers/byte-vocabulary';

interface GoldenCase {
  name: string;
  spec: ConstraintSpec | null;
  lexical?: LexicalSpec;
  accept: string[];
  reject: string[];
}

const GOLDEN_DIR = path.resolve(__dirname, '../../golden/decoding');
const cases = JSON.parse(fs.readFileSync(path.join(GOLDEN_DIR, 'cases.json'), 'utf8')) as GoldenCase[];
const ledgerPath = path.join(GOLDEN_DIR, 'ledger.json');

function run(): Record<string, string> {
  const results: Record<string, string> = {};
  for (const golden of cases) {
    const compiled = compileConstraint(golden.spec ?? undefined, golden.lexical, BYTE_VOCABULARY);
    golden.accept.forEach((text, index) => {
      results[`${golden.name} accept[${index}]`] = sessionAccepts(compiled.start(), text) ? 'pass' : 'FAIL (rejected)';
    });
    golden.reject.forEach((text, index) => {
      results[`${golden.name} reject[${index}]`] = sessionAccepts(compiled.start(), text) ? 'FAIL (accepted)' : 'pass';
    });
  }
  return results;
}

describe('golden constraint cases', () => {
  test('results match the ledger', () => {
    const results = run();
    if (process.env.UPDATE_GOLDEN === '1') fs.writeFileSync(ledgerPath, JSON.stringify(results, null, 1) + '\n');
    const ledger = JSON.parse(fs.readFileSync(ledgerPath, 'utf8')) as Record<string, string>;
    expect(results).toEqual(ledger);
    // The ledger itself must record no known failures for the shipped formats.
    expect(Object.entries(ledger).filter(([, value]) => value !== 'pass')).toEqual([]);
  });

  test('regex cases agree with JavaScript RegExp', () => {
    for (const golden of cases) {
      if (golden.spec?.type !== 'regex' || golden.lexical) continue;
      const regex = new RegExp(`^(?:${golden.spec.pattern})$`, 'u');
      for (const text of golden.accept) expect([golden.name, text, regex.test(text)]).toEqual([golden.name, text, true]);
      for (const text of golden.reject) expect([golden.name, text, regex.test(text)]).toEqual([golden.name, text, false]);
    }
  });
});
