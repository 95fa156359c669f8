/**
 * Child process for the multi-process audit tests: opens the store named by argv[2] (the HMAC key in
 * REIN_AUDIT_HMAC_KEY), appends argv[3] events with up to argv[4] in flight, and reports each append
 * that resolved to the parent (process.send) — only after it resolved, so every reported id was committed.
 */
import { buildAuditEvent } from '../../../src/audit/audit-event';
import { openAuditStore } from '../../../src/audit/open-audit-store';

async function main(): Promise<void> {
  const [url, countText, concurrencyText, label] = process.argv.slice(2);
  const count = Number(countText);
  const concurrency = Number(concurrencyText);
  const store = await openAuditStore(url, { hmacKey: process.env.REIN_AUDIT_HMAC_KEY });
  process.send?.({ type: 'ready' });
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const index = next++;
      const event = buildAuditEvent({ requestId: `${label}-${index}`, route: '/v1/generate', status: 200, decision: 'allow', input: [{ source: 'prompt', text: `burst ${label} ${index}` }] }, 'full');
      const result = await store.append(event);
      process.send?.({ type: 'appended', id: result.id, seq: result.seq, index });
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  await store.close();
  process.send?.({ type: 'done' });
}

main().catch((error) => {
  process.stderr.write(`audit-writer-child: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(3);
});
