/**
 * The JSON Schema Test Suite ledger (draft 2020-12): every case is pass / unsupported / stricter /
 * wrong, checked by character-level matching of the compact grammar (tests/golden/json-schema/
 * test-suite-ledger.json holds the expected statuses, so CI shows regressions and fixes as diffs).
 * "wrong" (an invalid instance accepted) must never appear. "stricter" = a valid instance rejected
 * (formats we assert, number forms we do not accept). Rewrite the ledger after a deliberate change
 * with REIN_UPDATE_LEDGER=1 npx jest tests/unit/json-schema/json-schema-test-suite-ledger.
 */
import fs from 'node:fs';
import path from 'node:path';
import { GrammarMatcher, jsonSchemaToGrammar } from '../../../src/decoding/json-schema';
import { isGatewayError } from '../../../src/errors/gateway-error';
import { describeWithSharedData, sharedDataPath } from '../../helpers/shared-data';

type Status = 'pass' | 'unsupported' | 'stricter' | 'wrong';
type Ledger = Record<string, Record<string, Record<string, Status>>>;

const LEDGER_FILE = path.resolve(__dirname, '../../golden/json-schema/test-suite-ledger.json');
const SUITE_PARTS = ['json-schema-test-suite', 'tests', 'draft2020-12'];

interface SuiteGroup {
  description: string;
  schema: unknown;
  tests: Array<{ description: string; data: unknown; valid: boolean }>;
}

function runSuite(): Ledger {
  const directory = sharedDataPath(...SUITE_PARTS);
  const ledger: Ledger = {};
  for (const file of fs.readdirSync(directory).filter((name) => name.endsWith('.json')).sort()) {
    const groups = JSON.parse(fs.readFileSync(path.join(directory, file), 'utf8')) as SuiteGroup[];
    const fileLedger: Record<string, Record<string, Status>> = {};
    groups.forEach((group, groupIndex) => {
      const statuses: Record<string, Status> = {};
      let matcher: { matches(text: string): boolean } | null = null;
      try {
        matcher = GrammarMatcher.forGrammar(jsonSchemaToGrammar(group.schema, { whitespace: 'compact' }), { maxSteps: 2_000_000 });
      } catch (error) {
        if (!isGatewayError(error) || (error.code !== 'constraint_unsupported' && error.code !== 'constraint_invalid')) throw error;
      }
      group.tests.forEach((test, testIndex) => {
        let status: Status;
        if (matcher === null) status = 'unsupported';
        else {
          let accepted: boolean;
          try {
            accepted = matcher.matches(JSON.stringify(test.data));
          } catch (error) {
            if (!isGatewayError(error)) throw error;
            accepted = false;
          }
          status = accepted === test.valid ? 'pass' : accepted ? 'wrong' : 'stricter';
        }
        statuses[`${testIndex}: ${test.description}`] = status;
      });
      fileLedger[`${groupIndex}: ${group.description}`] = statuses;
    });
    ledger[file] = fileLedger;
  }
  return ledger;
}

function counts(ledger: Ledger): Record<Status, number> {
  const result: Record<Status, number> = { pass: 0, unsupported: 0, stricter: 0, wrong: 0 };
  for (const groups of Object.values(ledger)) for (const tests of Object.values(groups)) for (const status of Object.values(tests)) result[status]++;
  return result;
}

describeWithSharedData('JSON Schema Test Suite ledger (draft 2020-12)', SUITE_PARTS, () => {
  const ledger = runSuite();

  test('no invalid instance is ever accepted', () => {
    const wrong: string[] = [];
    for (const [file, groups] of Object.entries(ledger)) {
      for (const [group, tests] of Object.entries(groups)) {
        for (const [name, status] of Object.entries(tests)) if (status === 'wrong') wrong.push(`${file} / ${group} / ${name}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  test('matches the committed ledger', () => {
    if (process.env.REIN_UPDATE_LEDGER === '1') {
      fs.mkdirSync(path.dirname(LEDGER_FILE), { recursive: true });
      fs.writeFileSync(LEDGER_FILE, `${JSON.stringify({ counts: counts(ledger), files: ledger }, null, 1)}\n`);
    }
    const expected = JSON.parse(fs.readFileSync(LEDGER_FILE, 'utf8')) as { counts: Record<Status, number>; files: Ledger };
    expect(counts(ledger)).toEqual(expected.counts);
    expect(ledger).toEqual(expected.files);
  });
});
