/**
 * `rein schema check` exit codes (SPEC.md §2): 0 = compiles / complete match, 1 = no match,
 * 2 = bad arguments, unreadable or invalid schema, unsupported keyword (named with its pointer).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { run } from '../../../src/cli/schema-command';

describe('rein schema check', () => {
  let directory: string;
  let stdout: jest.SpyInstance;
  let stderr: jest.SpyInstance;
  const written = (spy: jest.SpyInstance): string => spy.mock.calls.map((call) => String(call[0])).join('');

  beforeEach(() => {
    directory = fs.mkdtempSync(path.join(os.tmpdir(), 'schema-check-'));
    stdout = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
  });
  afterEach(() => {
    stdout.mockRestore();
    stderr.mockRestore();
    fs.rmSync(directory, { recursive: true, force: true });
  });

  const schemaFile = (schema: unknown): string => {
    const file = path.join(directory, 'schema.json');
    fs.writeFileSync(file, typeof schema === 'string' ? schema : JSON.stringify(schema));
    return file;
  };

  test('compiles; matches in compact or Python layout; rejects otherwise', async () => {
    const file = schemaFile({ type: 'object', properties: { a: { type: 'integer' } }, required: ['a'] });
    expect(await run(['check', file])).toBe(0);
    expect(await run(['check', file, '--text', '{"a":1}'])).toBe(0);
    expect(await run(['check', file, '--text', '{"a": 1}'])).toBe(0);
    expect(await run(['check', file, '--text', '{"a":"x"}'])).toBe(1);
    const textFile = path.join(directory, 'text.json');
    fs.writeFileSync(textFile, '{}');
    expect(await run(['check', file, '--file', textFile])).toBe(1);
    expect(written(stdout)).toContain('no match');
  });

  test('unsupported keyword: exit 2 naming the keyword and its pointer', async () => {
    const file = schemaFile({ properties: { tags: { type: 'array', uniqueItems: true } } });
    expect(await run(['check', file])).toBe(2);
    expect(written(stderr)).toContain('constraint_unsupported');
    expect(written(stderr)).toContain('uniqueItems at #/properties/tags/uniqueItems');
  });

  test('bad input: exit 2', async () => {
    expect(await run(['check', schemaFile('{not json')])).toBe(2);
    expect(await run(['check'])).toBe(2);
    expect(await run(['verify', 'x'])).toBe(2);
    expect(await run(['check', schemaFile({}), '--bogus', '1'])).toBe(2);
    expect(await run(['check', path.join(directory, 'missing.json')])).toBe(2);
  });
});
