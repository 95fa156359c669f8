/**
 * `rein audit replay ID`: a request recorded at audit level `full` re-runs with its seed, settings,
 * policy and constraint on the same model and matches; a changed policy is reported as a mismatch.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { CLI, REPO_ROOT, startGateway } from '../../helpers/gateway-process';

const run = promisify(execFile);

async function replay(dir: string, id: string): Promise<{ code: number; report: any }> {
  try {
    const { stdout } = await run(process.execPath, [CLI, 'audit', 'replay', id, '--db', `sqlite:${path.join(dir, 'audit.sqlite')}`, '--config', path.join(dir, 'rein.json')], { cwd: REPO_ROOT });
    return { code: 0, report: JSON.parse(stdout) };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, report: failed.stdout ? JSON.parse(failed.stdout) : failed.stderr };
  }
}

describe('audit replay', () => {
  test('a recorded constrained request replays to the same decision and output', async () => {
    const policies = fs.mkdtempSync(path.join(REPO_ROOT, 'test-artifacts-policies-'));
    try {
      fs.copyFileSync(path.join(REPO_ROOT, 'tests/fixtures/policies/full-audit.yaml'), path.join(policies, 'full-audit.yaml'));
      const gateway = await startGateway({ config: { policies: { dir: policies, default: 'full-audit', watch: false } } });
      let ids: string[];
      try {
        const responses = await Promise.all([
          fetch(`${gateway.url}/v1/generate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ prompt: 'Say', max_tokens: 8, seed: 21, temperature: 0.9 }) }),
          fetch(`${gateway.url}/v1/generate`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ prompt: 'Code', constraint: { type: 'regex', pattern: '[A-Z]{2}-[0-9]{3}' }, seed: 5 }),
          }),
        ]);
        ids = await Promise.all(responses.map(async (response) => ((await response.json()) as { audit_id: string }).audit_id));
      } finally {
        await gateway.stop();
      }
      for (const id of ids) {
        const { code, report } = await replay(gateway.dir, id);
        expect({ code, match: report.match, outputs: report.outputs.map((output: { match: boolean }) => output.match) }).toEqual({ code: 0, match: true, outputs: [true] });
      }
      // Change the policy: the replay reports the revision change as the reason for a mismatch.
      fs.writeFileSync(path.join(policies, 'full-audit.yaml'), 'name: full-audit\nrefusal: "No."\naudit:\n  keep: full\noutput:\n  - check: length\n    max_chars: 1\n    action: block\n');
      const changed = await replay(gateway.dir, ids[0]);
      expect(changed.code).toBe(1);
      expect(changed.report.match).toBe(false);
      expect(changed.report.reason).toMatch(/has changed since/);
    } finally {
      fs.rmSync(policies, { recursive: true, force: true });
    }
  });
});
