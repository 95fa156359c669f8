/**
 * The gateway wires the check worker pool: a large `/v1/check` output starts a worker thread (counted
 * in /proc/self/task, Linux), and the gateway's close() ends it. `checks.offload.enabled: false`
 * starts none.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { validateRawConfig } from '../../../src/config/config';
import { createLogger } from '../../../src/logging/logger';
import { createGateway } from '../../../src/server/create-gateway';

const repo = path.resolve(__dirname, '../../..');
const threads = () => fs.readdirSync('/proc/self/task').length;
const linux = fs.existsSync('/proc/self/task');

async function checkOutput(port: number, output: string): Promise<{ decision: string; sanitized_output?: string }> {
  const response = await fetch(`http://127.0.0.1:${port}/v1/check`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ output, policy: 'default' }),
  });
  expect(response.status).toBe(200);
  return (await response.json()) as { decision: string; sanitized_output?: string };
}

async function run(enabled: boolean): Promise<{ before: number; during: number; after: number; redacted: boolean; metrics: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rein-offload-'));
  const config = validateRawConfig({
    models: [],
    audit: { store: `sqlite:${path.join(dir, 'audit.sqlite')}`, hmac_key: 'offload-gateway-key-0123' },
    policies: { dir: path.join(repo, 'policies'), watch: false },
    checks: { offload: { enabled, workers: 1, min_chars: 1000 } },
  });
  const gateway = await createGateway(config, { logger: createLogger({ level: 'silent' }), root: repo });
  const server = http.createServer(gateway.app.listener).listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const port = (server.address() as AddressInfo).port;
  try {
    await checkOutput(port, 'short output, card 4111 1111 1111 1111'); // everything else warm
    const before = threads();
    const outcome = await checkOutput(port, `${'plain words in a long answer. '.repeat(200)}card 4111 1111 1111 1111`);
    const during = threads();
    // The first large check starts the worker and runs inline while it loads; later ones go to it.
    let metrics = '';
    for (let attempt = 0; attempt < 50; attempt++) {
      metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      if (!enabled || /rein_check_tasks_completed_total [1-9]/.test(metrics)) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
      await checkOutput(port, `${'more plain words in a long answer. '.repeat(200)}`);
    }
    await new Promise((resolve) => server.close(resolve));
    await gateway.close();
    const redacted = typeof outcome.sanitized_output === 'string' && outcome.sanitized_output.includes('plain words') && !outcome.sanitized_output.includes('4111 1111');
    return { before, during, after: threads(), redacted, metrics };
  } finally {
    server.close();
  }
}

(linux ? describe : describe.skip)('gateway and check offload', () => {
  test('a large output starts one worker thread; close() ends it', async () => {
    const { before, during, after, redacted, metrics } = await run(true);
    expect(redacted).toBe(true);
    expect(during).toBe(before + 1);
    expect(after).toBeLessThan(during);
    // /metrics exports the pool: one running worker, and the offloaded tasks it answered.
    expect(metrics).toMatch(/rein_check_workers\{state="running"\} 1\n/);
    expect(metrics).toMatch(/rein_check_tasks_completed_total [1-9]/);
    expect(metrics).toMatch(/rein_check_tasks_queued 0\n/);
  });

  test('enabled: false starts none', async () => {
    const { before, during, redacted, metrics } = await run(false);
    expect(redacted).toBe(true);
    expect(during).toBe(before);
    expect(metrics).not.toMatch(/rein_check_workers/);
  });
});
