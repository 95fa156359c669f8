/**
 * `rein grammar check`: exit codes 0 (match / compiles), 1 (no match, with where), 2 (compile error
 * with FILE:line:col, bad arguments), run in-process with stdout/stderr captured.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { run } from '../../../src/cli/grammar-command';

async function capture(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const stdout = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => (out.push(String(chunk)), true));
  const stderr = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => (err.push(String(chunk)), true));
  try {
    const code = await run(argv);
    return { code, stdout: out.join(''), stderr: err.join('') };
  } finally {
    stdout.mockRestore();
    stderr.mockRestore();
  }
}

const json = path.resolve(__dirname, '../../../grammars/json.gbnf');

describe('rein grammar check', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rein-grammar-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('compiles without a text: exit 0', async () => {
    const result = await capture(['check', json]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^ok: .*json\.gbnf compiles/);
  });

  test('complete match: exit 0; mismatch: exit 1 with the place; prefix: exit 1', async () => {
    expect((await capture(['check', json, '--text', '{"a": [1, 2]}'])).code).toBe(0);
    const mismatch = await capture(['check', json, '--text', '{"a":\n x}']);
    expect(mismatch.code).toBe(1);
    expect(mismatch.stdout).toContain('2:2');
    const prefix = await capture(['check', json, '--text', '{"a": ']);
    expect(prefix.code).toBe(1);
    expect(prefix.stdout).toMatch(/incomplete/);
    const file = path.join(dir, 'doc.json');
    fs.writeFileSync(file, '{"ok": true}');
    expect((await capture(['check', json, '--file', file])).code).toBe(0);
  });

  test('compile error: exit 2 with FILE:line:col', async () => {
    const bad = path.join(dir, 'bad.gbnf');
    fs.writeFileSync(bad, 'root ::= item\nitem ::= "x" missing\n');
    const result = await capture(['check', bad, '--text', 'x']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`${bad}:2:14: constraint_invalid`);
  });

  test('bad arguments: exit 2', async () => {
    expect((await capture(['check'])).code).toBe(2);
    expect((await capture(['verify', json])).code).toBe(2);
    expect((await capture(['check', json, '--bogus', 'x'])).code).toBe(2);
    expect((await capture(['check', json, '--text', 'a', '--file', 'b'])).code).toBe(2);
  });
});
