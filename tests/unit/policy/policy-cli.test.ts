/** @jest-environment ./tests/unit/onnx/onnx-test-environment.js */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { run as runPolicy } from '../../../src/cli/policy-command';
import { run as runCheck } from '../../../src/cli/check-command';

const POLICIES = path.resolve(__dirname, '../../../policies');

async function capture(work: () => Promise<number>): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((stdout += String(chunk)), true));
  const err = jest.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((stderr += String(chunk)), true));
  try {
    return { code: await work(), stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

function tempPolicies(files: Record<string, string>): string {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'rein-policies-'));
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(directory, name), text);
  return directory;
}

describe('rein policy', () => {
  test('validate: the shipped policies are valid', async () => {
    const result = await capture(() => runPolicy(['validate', POLICIES]));
    expect(result.stdout).toMatch(/ok\s+default\s+sha256:[0-9a-f]{64}/);
    expect(result.stdout).toMatch(/4 valid, 0 invalid/);
    expect(result.code).toBe(0);
  });

  test('test: the shipped policies pass all their cases', async () => {
    // Cases with `requires` also exercise the model-based detectors (src/safety/detectors): they must
    // pass where those are installed (as here) and are skipped, saying why, where they are not.
    const result = await capture(() => runPolicy(['test', POLICIES, '--json']));
    const body = JSON.parse(result.stdout) as { invalid: number; failed: number; reports: Array<{ policy: string; results: Array<{ name: string; status: string; failures: string[] }> }> };
    expect(body.invalid).toBe(0);
    const modelCases = new Set<string>();
    for (const file of fs.readdirSync(POLICIES).filter((name) => name.endsWith('.test.yaml'))) {
      const cases = YAML.parse(fs.readFileSync(path.join(POLICIES, file), 'utf8')) as Array<{ name: string; requires?: string[] }>;
      for (const testCase of cases) if (testCase.requires) modelCases.add(`${file.replace('.test.yaml', '')}: ${testCase.name}`);
    }
    const results = body.reports.flatMap((report) => report.results.map((item) => ({ ...item, id: `${report.policy}: ${item.name}` })));
    expect(results.filter((item) => !modelCases.has(item.id) && item.status === 'pass')).toHaveLength(10);
    expect(results.filter((item) => item.status === 'fail')).toEqual([]);
    expect(result.code).toBe(0);
  });

  test('validate: an invalid file is reported with file, line and pointer, exit 1', async () => {
    const directory = tempPolicies({ 'broken.yaml': 'input:\n  - check: pii\n    action: obliterate\n' });
    const result = await capture(() => runPolicy(['validate', directory]));
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/broken\.yaml:3: \/input\/0\/action: must be equal to one of the allowed values/);
  });

  test('test: a failing case exits 1 and says why; --run selects cases', async () => {
    const directory = tempPolicies({
      'mine.yaml': 'output:\n  - check: pii\n    action: redact\n',
      'mine.test.yaml': '- name: redacts email\n  output: "a@example.org"\n  expect: {sanitized_output: "[EMAIL]"}\n- name: wrong expectation\n  output: "a@example.org"\n  expect: {decision: allow}\n',
    });
    const all = await capture(() => runPolicy(['test', directory]));
    expect(all.code).toBe(1);
    expect(all.stdout).toMatch(/FAIL mine: wrong expectation\n\s+decision: expected allow, got redact/);
    const selected = await capture(() => runPolicy(['test', path.join(directory, 'mine.test.yaml'), '--run', '^redacts']));
    expect(selected.code).toBe(0);
    expect(selected.stdout).toMatch(/PASS: 1 {2}FAIL: 0/);
  });

  test('bad arguments exit 2', async () => {
    expect((await capture(() => runPolicy(['frobnicate']))).code).toBe(2);
    expect((await capture(() => runPolicy(['validate', '/nonexistent/path']))).code).toBe(2);
  });
});

describe('rein check', () => {
  test('prints the check response; exit 1 on block, 0 otherwise', async () => {
    const directory = tempPolicies({
      'guard.yaml': 'output:\n  - check: pii\n    action: redact\n  - check: blocklist\n    terms: [launch codes]\n    action: block\n',
      'out-ok.txt': 'Mail jane@example.org',
      'out-bad.txt': 'The launch codes are 0000',
    });
    const ok = await capture(() => runCheck(['--output', path.join(directory, 'out-ok.txt'), '--policy', 'guard', '--policies', directory]));
    expect(ok.code).toBe(0);
    const body = JSON.parse(ok.stdout);
    expect(body).toMatchObject({ decision: 'redact', sanitized_output: 'Mail [EMAIL]', policy: { name: 'guard' } });
    const blocked = await capture(() => runCheck(['--output', path.join(directory, 'out-bad.txt'), '--policy', 'guard', '--policies', directory]));
    expect(blocked.code).toBe(1);
    expect(JSON.parse(blocked.stdout).decision).toBe('block');
  });

  test('unknown policy or missing file exits 2', async () => {
    expect((await capture(() => runCheck(['--output', '/nonexistent']))).code).toBe(2);
    const directory = tempPolicies({ 'x.txt': 'hi' });
    expect((await capture(() => runCheck(['--output', path.join(directory, 'x.txt'), '--policy', 'nope', '--policies', POLICIES]))).code).toBe(2);
  });
});
