/**
 * Policy test cases (`NAME.test.yaml`, SPEC.md §5) and their runner, used by `rein policy test` and
 * `POST /v1/policies/{name}/test`. Each case gives `input` and/or `output` (plus `samples`, `context`)
 * and what to expect: `decision`, `findings` (a subset: each expected finding must match a reported
 * non-passing finding whose check equals it or starts with it plus "." — `pii` matches `pii.email` — and
 * whose other given fields are equal), `sanitized_input`, `sanitized_output`. `requires: [check]` skips
 * the case, saying why, when one of those checks is not installed in this build.
 */
import type { Finding } from '../safety/finding';
import { parsePolicyText } from './parse-policy-text';
import type { CheckRegistry } from './check-registry';
import { checkText, type CheckResponse } from './check-text';
import { compileRegexSearch } from '../safety/filters/regex-search';
import type { Policy, PolicyValidationError } from './policy-types';

export interface ExpectedFinding {
  check: string;
  [field: string]: unknown;
}

export interface PolicyTestCase {
  name: string;
  input?: string;
  output?: string;
  samples?: string[];
  context?: string[];
  requires?: string[];
  expect: {
    decision?: string;
    findings?: ExpectedFinding[];
    sanitized_input?: string;
    sanitized_output?: string;
  };
}

export interface PolicyTestResult {
  name: string;
  status: 'pass' | 'fail' | 'skip';
  failures: string[];
  durationMs: number;
  decision?: string;
  reason?: string;
}

export interface PolicyTestReport {
  policy: string;
  revision: string;
  passed: number;
  failed: number;
  skipped: number;
  results: PolicyTestResult[];
}

const CASE_FIELDS = new Set(['name', 'input', 'output', 'samples', 'context', 'requires', 'expect']);
const EXPECT_FIELDS = new Set(['decision', 'findings', 'sanitized_input', 'sanitized_output']);
const MAX_CASES = 1000;

/** Validates test cases given as a parsed value (a list, or `{cases: [...]}`). */
export function validateTestCases(value: unknown): { ok: true; cases: PolicyTestCase[] } | { ok: false; errors: PolicyValidationError[] } {
  const list = Array.isArray(value) ? value : (value as { cases?: unknown } | null)?.cases;
  const prefix = Array.isArray(value) ? '' : '/cases';
  if (!Array.isArray(list)) return { ok: false, errors: [{ pointer: prefix, message: 'test cases must be a list' }] };
  if (list.length > MAX_CASES) return { ok: false, errors: [{ pointer: prefix, message: `more than ${MAX_CASES} test cases` }] };
  const errors: PolicyValidationError[] = [];
  const isStringList = (item: unknown) => Array.isArray(item) && item.every((element) => typeof element === 'string');
  list.forEach((testCase: unknown, index) => {
    const pointer = `${prefix}/${index}`;
    if (typeof testCase !== 'object' || testCase === null || Array.isArray(testCase)) {
      errors.push({ pointer, message: 'a test case must be an object' });
      return;
    }
    const record = testCase as Record<string, unknown>;
    for (const key of Object.keys(record)) if (!CASE_FIELDS.has(key)) errors.push({ pointer: `${pointer}/${key}`, message: `unknown field '${key}'` });
    if (typeof record.name !== 'string' || record.name.length === 0) errors.push({ pointer: `${pointer}/name`, message: 'name must be a non-empty string' });
    if (record.input !== undefined && typeof record.input !== 'string') errors.push({ pointer: `${pointer}/input`, message: 'input must be a string' });
    if (record.output !== undefined && typeof record.output !== 'string') errors.push({ pointer: `${pointer}/output`, message: 'output must be a string' });
    if (record.input === undefined && record.output === undefined && record.context === undefined) errors.push({ pointer, message: 'a test case needs input, output or context' });
    for (const key of ['samples', 'context', 'requires']) {
      if (record[key] !== undefined && !isStringList(record[key])) errors.push({ pointer: `${pointer}/${key}`, message: `${key} must be a list of strings` });
    }
    const expected = record.expect as Record<string, unknown> | undefined;
    if (typeof expected !== 'object' || expected === null || Array.isArray(expected)) {
      errors.push({ pointer: `${pointer}/expect`, message: 'expect must be an object' });
      return;
    }
    for (const key of Object.keys(expected)) if (!EXPECT_FIELDS.has(key)) errors.push({ pointer: `${pointer}/expect/${key}`, message: `unknown field '${key}'` });
    if (expected.findings !== undefined) {
      if (!Array.isArray(expected.findings) || !expected.findings.every((finding) => typeof finding === 'object' && finding !== null && typeof (finding as ExpectedFinding).check === 'string')) {
        errors.push({ pointer: `${pointer}/expect/findings`, message: 'findings must be a list of objects with a check' });
      }
    }
  });
  return errors.length > 0 ? { ok: false, errors } : { ok: true, cases: list as PolicyTestCase[] };
}

export function parseTestCasesText(text: string): { ok: true; cases: PolicyTestCase[] } | { ok: false; errors: PolicyValidationError[] } {
  const parsed = parsePolicyText(text);
  if (!parsed.ok) return parsed;
  const result = validateTestCases(parsed.parsed.value);
  if (!result.ok) return { ok: false, errors: result.errors.map((error) => ({ ...error, line: parsed.parsed.lineOf(error.pointer) })) };
  return result;
}

function findingMatches(actual: Finding, expected: ExpectedFinding): boolean {
  if (actual.check !== expected.check && !actual.check.startsWith(`${expected.check}.`)) return false;
  if (expected.verdict === undefined && actual.verdict === 'pass') return false;
  for (const [key, value] of Object.entries(expected)) {
    if (key === 'check') continue;
    if (JSON.stringify((actual as unknown as Record<string, unknown>)[key]) !== JSON.stringify(value)) return false;
  }
  return true;
}

export function compareWithExpectation(testCase: PolicyTestCase, response: CheckResponse): string[] {
  const failures: string[] = [];
  const expected = testCase.expect;
  if (expected.decision !== undefined && response.decision !== expected.decision) {
    const fired = response.findings.filter((finding) => finding.verdict !== 'pass').map((finding) => `${finding.check}→${finding.action}`);
    failures.push(`decision: expected ${expected.decision}, got ${response.decision}${fired.length ? ` (${fired.join(', ')})` : ''}`);
  }
  for (const finding of expected.findings ?? []) {
    if (!response.findings.some((actual) => findingMatches(actual, finding))) {
      failures.push(`finding ${JSON.stringify(finding)} not reported (got: ${response.findings.filter((actual) => actual.verdict !== 'pass').map((actual) => actual.check).join(', ') || 'none'})`);
    }
  }
  const actualInput = response.sanitized_input ?? testCase.input;
  if (expected.sanitized_input !== undefined && actualInput !== expected.sanitized_input) {
    failures.push(`sanitized_input: expected ${JSON.stringify(expected.sanitized_input)}, got ${JSON.stringify(actualInput)}`);
  }
  const actualOutput = response.sanitized_output ?? testCase.output;
  if (expected.sanitized_output !== undefined && actualOutput !== expected.sanitized_output) {
    failures.push(`sanitized_output: expected ${JSON.stringify(expected.sanitized_output)}, got ${JSON.stringify(actualOutput)}`);
  }
  return failures;
}

export interface RunPolicyTestsOptions {
  /** Only cases whose name this regex finds (linear-time matcher). */
  run?: string;
  signal?: AbortSignal;
}

export async function runPolicyTests(cases: PolicyTestCase[], policy: Policy, registry: CheckRegistry, options: RunPolicyTestsOptions = {}): Promise<PolicyTestReport> {
  const filter = options.run ? compileRegexSearch(options.run, { maxMatchLength: 4096 }) : undefined;
  const signal = options.signal ?? new AbortController().signal;
  const results: PolicyTestResult[] = [];
  for (const testCase of cases) {
    if (filter && filter.search(testCase.name).length === 0) continue;
    const started = performance.now();
    const missing = (testCase.requires ?? []).filter((id) => {
      const info = registry.get(id);
      return !info || info.missing;
    });
    if (missing.length > 0) {
      results.push({ name: testCase.name, status: 'skip', failures: [], durationMs: 0, reason: `requires ${missing.join(', ')}, not installed in this build` });
      continue;
    }
    try {
      const response = await checkText(testCase, policy, registry, signal);
      const failures = compareWithExpectation(testCase, response);
      results.push({ name: testCase.name, status: failures.length ? 'fail' : 'pass', failures, durationMs: performance.now() - started, decision: response.decision });
    } catch (error) {
      results.push({ name: testCase.name, status: 'fail', failures: [`error: ${(error as Error).message}`], durationMs: performance.now() - started });
    }
  }
  return {
    policy: policy.name,
    revision: policy.revision,
    passed: results.filter((result) => result.status === 'pass').length,
    failed: results.filter((result) => result.status === 'fail').length,
    skipped: results.filter((result) => result.status === 'skip').length,
    results,
  };
}
