import { compilePolicy } from '../../../src/policy/compile-policy';
import { canonicalJson } from '../../../src/policy/canonical-json';
import { policyFrom, testRegistry } from './policy-fixtures';

const registry = testRegistry();
const compile = (text: string, others: Record<string, string> = {}, name = 'test') =>
  compilePolicy({ name, text }, { registry, lookup: (parent) => (others[parent] ? { name: parent, text: others[parent] } : undefined) });

describe('compilePolicy', () => {
  test('fills defaults and splits check parameters', () => {
    const policy = policyFrom('output:\n  - check: pii\n    entities: [email]\n    action: redact\n');
    expect(policy.refusal).toMatch(/Sorry/);
    expect(policy.audit.keep).toBe('redacted');
    expect(policy.output[0]).toMatchObject({ check: 'pii', action: 'redact', enforcement: 'enforce', fail_mode: 'closed', params: { entities: ['email'] }, pointer: '/output/0' });
    expect(policy.revision).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(Object.isFrozen(policy.output[0].params)).toBe(true);
  });

  test('schema errors carry JSON pointers and YAML line numbers', () => {
    const result = compile('description: x\ninput:\n  - check: pii\n    action: explode\n');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors).toEqual([expect.objectContaining({ pointer: '/input/0/action', line: 4 })]);
  });

  test('unknown check id is an error at its pointer', () => {
    const result = compile('input:\n  - check: pii\n    action: flag\n  - check: telepathy\n    action: block\n');
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors[0]).toMatchObject({ pointer: '/input/1/check', line: 4, message: expect.stringContaining("unknown check 'telepathy'") });
  });

  test("check parameters are validated against the check's own schema", () => {
    const result = compile('output:\n  - check: pii\n    entities: [email, shoe_size]\n    action: redact\n');
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors[0].pointer).toBe('/output/0/entities/1');
    const regex = compile('output:\n  - check: regex\n    rules: [{name: x, pattern: "(a)\\\\1"}]\n    action: block\n');
    expect(regex.ok).toBe(false);
    if (!regex.ok) expect(regex.errors[0].pointer).toBe('/output/0/rules/0/pattern');
  });

  test('an output-only check in the input list is an error; a reserved id validates', () => {
    const result = compile('input:\n  - check: self_consistency\n    action: flag\n');
    expect(result.ok).toBe(false);
    expect(compile('output:\n  - check: grounding\n    action: flag\n').ok).toBe(true);
  });

  test('YAML syntax errors and duplicate keys report a line', () => {
    const broken = compile('input:\n  - check: pii\n   action: [flag\n');
    expect(broken.ok).toBe(false);
    if (!broken.ok) expect(broken.errors[0].line).toBeGreaterThan(0);
    expect(compile('refusal: a\nrefusal: b\n').ok).toBe(false);
  });

  test('JSON text works too', () => {
    expect(compile('{"output": [{"check": "secrets", "action": "redact"}]}').ok).toBe(true);
  });

  test('name must match the file name', () => {
    const result = compile('name: other\n');
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors[0].pointer).toBe('/name');
  });
});

describe('extends', () => {
  const base = 'refusal: base refusal\ngeneration: {max_tokens: 100, temperature: 0.5}\ninput:\n  - check: prompt_injection\n    action: block\noutput:\n  - check: pii\n    action: redact\n';

  test('lists are appended after the parent, scalars override, objects merge', () => {
    const policy = policyFrom('extends: base\ngeneration: {max_tokens: 50}\noutput:\n  - check: secrets\n    action: redact\n', registry, { base });
    expect(policy.refusal).toBe('base refusal');
    expect(policy.generation).toEqual({ max_tokens: 50, temperature: 0.5 });
    expect(policy.output.map((entry) => entry.check)).toEqual(['pii', 'secrets']);
    expect(policy.output[1].pointer).toBe('/output/1');
    expect(policy.ancestry).toEqual(['base']);
    expect(policy.document.extends).toBeUndefined();
  });

  test('cycles and missing parents are errors at /extends', () => {
    const cycle = compile('extends: a\n', { a: 'extends: b\n', b: 'extends: test\n' });
    expect(cycle.ok).toBe(false);
    if (!cycle.ok) expect(cycle.errors[0]).toMatchObject({ pointer: '/extends', message: expect.stringContaining('cycle') });
    const missing = compile('extends: nowhere\n');
    if (!missing.ok) expect(missing.errors[0].message).toMatch(/not found/);
    expect(missing.ok).toBe(false);
    const badParent = compile('extends: bad\n', { bad: 'input: 3\n' });
    expect(badParent.ok).toBe(false);
    if (!badParent.ok) expect(badParent.errors[0].message).toMatch(/parent policy 'bad' is invalid/);
  });

  test('revision is the hash of the resolved policy: layout-independent, content-sensitive', () => {
    const yaml = policyFrom('output:\n  - check: pii\n    action: redact\n');
    const json = policyFrom('{"output": [{"action": "redact", "check": "pii"}]}');
    const inherited = policyFrom('extends: parent\n', registry, { parent: 'output:\n  - check: pii\n    action: redact\n' });
    const different = policyFrom('output:\n  - check: pii\n    action: flag\n');
    expect(json.revision).toBe(yaml.revision);
    expect(inherited.revision).toBe(yaml.revision);
    expect(different.revision).not.toBe(yaml.revision);
  });

  test('canonical JSON sorts keys', () => {
    expect(canonicalJson({ b: 1, a: [2, { d: 1, c: null }] })).toBe('{"a":[2,{"c":null,"d":1}],"b":1}');
  });
});
