import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Registry } from 'prom-client';
import { createPolicyStore, type PolicyStore } from '../../../src/policy/policy-store';
import { policyMetrics } from '../../../src/policy/policy-metrics';
import { isGatewayError } from '../../../src/errors/gateway-error';
import { testRegistry } from './policy-fixtures';

const GOOD = 'output:\n  - check: pii\n    action: redact\n';
const BETTER = 'output:\n  - check: pii\n    action: block\n';
const BROKEN = 'output:\n  - check: pii\n    action: [redact\n';

function tempDirectory(files: Record<string, string>): string {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'rein-store-'));
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(directory, name), text);
  return directory;
}

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`gave up waiting for ${what}`);
}

describe('policy store', () => {
  let store: PolicyStore | undefined;
  afterEach(() => store?.close());

  test('loads a folder, skipping test files and the schema', () => {
    const directory = tempDirectory({ 'a.yaml': GOOD, 'b.json': '{"output": []}', 'a.test.yaml': '[]', 'policy.schema.json': '{}', 'notes.txt': 'x' });
    store = createPolicyStore({ directory, registry: testRegistry(), watch: false });
    expect(store.list().map((summary) => summary.name)).toEqual(['a', 'b']);
    expect(store.errors()).toEqual([]);
    expect(store.testCasesText('a')).toBe('[]');
  });

  test('hot reload: a broken file never replaces the good one; the error is logged, counted and listed', async () => {
    const directory = tempDirectory({ 'good.yaml': GOOD });
    const metrics = policyMetrics(new Registry());
    const logs: string[] = [];
    store = createPolicyStore({ directory, registry: testRegistry(), debounceMs: 20, reloadErrorCounter: metrics.reloadErrors, log: (line) => logs.push(line) });
    const original = store.get('good')!.revision;

    fs.writeFileSync(path.join(directory, 'good.yaml'), BROKEN);
    await until(() => store!.errors().length > 0, 'the reload error');
    expect(store.get('good')?.revision).toBe(original);
    expect(store.errors()[0]).toMatchObject({ name: 'good', keptPrevious: true, errors: [expect.objectContaining({ line: expect.any(Number) })] });
    expect(logs.join('\n')).toMatch(/policy 'good'.*failed to load.*keeping revision sha256:/);
    expect((await metrics.reloadErrors.get()).values[0]).toMatchObject({ value: 1, labels: { policy: 'good' } });

    fs.writeFileSync(path.join(directory, 'good.yaml'), BETTER);
    await until(() => store!.get('good')?.revision !== original, 'the fixed file to load');
    expect(store.errors()).toEqual([]);
    expect(store.get('good')?.output[0].action).toBe('block');
  });

  test('a broken parent keeps its children at their good revision', () => {
    const directory = tempDirectory({ 'base.yaml': GOOD, 'child.yaml': 'extends: base\nrefusal: no\n' });
    store = createPolicyStore({ directory, registry: testRegistry(), watch: false, log: () => undefined });
    const child = store.get('child')!.revision;
    fs.writeFileSync(path.join(directory, 'base.yaml'), BROKEN);
    const errors = store.reload();
    expect(errors.map((error) => error.name).sort()).toEqual(['base', 'child']);
    expect(store.get('child')?.revision).toBe(child);
  });

  test('put validates, then writes atomically, then reloads', async () => {
    const directory = tempDirectory({ 'base.yaml': GOOD });
    store = createPolicyStore({ directory, registry: testRegistry(), watch: false });
    const policy = await store.put('team', 'extends: base\noutput:\n  - check: secrets\n    action: redact\n');
    expect(policy.output.map((entry) => entry.check)).toEqual(['pii', 'secrets']);
    expect(store.get('team')?.revision).toBe(policy.revision);
    expect(fs.readdirSync(directory).sort()).toEqual(['base.yaml', 'team.yaml']);

    let caught: unknown;
    try {
      await store.put('team', 'output:\n  - check: nonsense\n    action: redact\n');
    } catch (error) {
      caught = error;
    }
    expect(isGatewayError(caught) && caught.code).toBe('policy_invalid');
    expect(isGatewayError(caught) && caught.details?.errors).toEqual([expect.objectContaining({ pointer: '/output/0/check', line: 2 })]);
    expect(fs.readFileSync(path.join(directory, 'team.yaml'), 'utf8')).toContain('secrets');
    await expect(store.put('../escape', GOOD)).rejects.toMatchObject({ code: 'invalid_request' });
  });
});

describe('policy store: files', () => {
  test('two files for one name: the first is used, the other reported', () => {
    const directory = tempDirectory({ 'twin.json': '{"output": []}', 'twin.yaml': GOOD });
    const store = createPolicyStore({ directory, registry: testRegistry(), watch: false, log: () => undefined });
    expect(store.get('twin')?.output).toEqual([]);
    expect(store.errors()).toEqual([expect.objectContaining({ name: 'twin', file: path.join(directory, 'twin.yaml') })]);
    store.close();
  });

  test('put YAML over a JSON file replaces it with NAME.yaml', async () => {
    const directory = tempDirectory({ 'team.json': '{"output": []}' });
    const store = createPolicyStore({ directory, registry: testRegistry(), watch: false });
    await store.put('team', GOOD);
    expect(fs.readdirSync(directory)).toEqual(['team.yaml']);
    await store.put('team', '{"output": []}');
    expect(fs.readdirSync(directory)).toEqual(['team.yaml']);
    expect(store.get('team')?.output).toEqual([]);
    store.close();
  });
});
