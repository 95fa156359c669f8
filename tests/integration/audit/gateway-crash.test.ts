/**
 * Durability at the gateway level (issue 9): `kill -9` a gateway in the middle of a burst of 200
 * requests — every request that got a response is in the audit log, and the chain verifies. The same
 * with two gateway processes writing one PostgreSQL log.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openAuditStore } from '../../../src/audit/open-audit-store';
import { REPO_ROOT, startGateway, type GatewayProcess } from '../../helpers/gateway-process';
import { TEST_POSTGRES_URL, dropSchema, uniqueSchema } from './pg-test-schema';

const POLICIES = path.join(REPO_ROOT, 'tests', 'fixtures', 'policies');
const HMAC_KEY = crypto.randomBytes(32).toString('hex');

/** Sends `total` requests, `concurrency` at a time, spread over the gateways; kills the first after `killAfter` responses. */
async function burst(gateways: GatewayProcess[], total: number, concurrency: number, killAfter: number): Promise<string[]> {
  const answered: string[] = [];
  let sent = 0;
  let killed = false;
  const worker = async (workerIndex: number) => {
    while (sent < total) {
      const index = sent++;
      const gateway = gateways[(index + workerIndex) % gateways.length];
      try {
        const response = await fetch(`${gateway.url}/v1/generate`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ prompt: `request ${index}`, max_tokens: 1, seed: index }),
        });
        if (response.status === 200) {
          const body = (await response.json()) as { audit_id: string };
          answered.push(body.audit_id);
        }
      } catch {
        // the killed gateway: no response, nothing to find
      }
      if (!killed && answered.length >= killAfter) {
        killed = true;
        gateways[0].child.kill('SIGKILL');
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, (_, index) => worker(index)));
  return answered;
}

describe('gateway crash during a burst', () => {
  test('SQLite: every answered request is in the log and the chain verifies', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rein-crash-'));
    const database = `sqlite:${path.join(dir, 'audit.sqlite')}`;
    const gateway = await startGateway({ dir, config: { policies: { dir: POLICIES, default: 'permissive' }, audit: { store: database, hmac_key: HMAC_KEY } } });
    const answered = await burst([gateway], 200, 8, 60);
    await gateway.stop();
    expect(answered.length).toBeGreaterThanOrEqual(60);
    expect(answered.length).toBeLessThan(200);
    const store = await openAuditStore(database, { hmacKey: HMAC_KEY, readOnlyKey: true });
    try {
      const verdict = await store.verify();
      expect(verdict).toMatchObject({ ok: true });
      const missing: string[] = [];
      for (const id of answered) if ((await store.get(id)) === null) missing.push(id);
      expect({ missing, answered: answered.length, verdict }).toEqual({ missing: [], answered: answered.length, verdict });
    } finally {
      await store.close();
    }
  });

  test('PostgreSQL: two gateways on one log; one is killed; the log is complete and verifies', async () => {
    const schema = uniqueSchema();
    const url = `${TEST_POSTGRES_URL}?schema=${schema}`;
    const config = { policies: { dir: POLICIES, default: 'permissive' }, audit: { store: url, hmac_key: HMAC_KEY } };
    const [first, second] = await Promise.all([startGateway({ config }), startGateway({ config })]);
    try {
      const answered = await burst([first, second], 200, 8, 60);
      expect(answered.length).toBeGreaterThanOrEqual(60);
      const store = await openAuditStore(url, { hmacKey: HMAC_KEY, readOnlyKey: true });
      try {
        const verdict = await store.verify();
        expect(verdict).toMatchObject({ ok: true });
        for (const id of answered) expect(await store.get(id)).not.toBeNull();
      } finally {
        await store.close();
      }
    } finally {
      await Promise.all([first.stop(), second.stop()]);
      await dropSchema(schema);
    }
  });
});
