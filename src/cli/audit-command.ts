/**
 * `rein audit …` (SPEC.md §2):
 *   verify [--db URL] [--config FILE]                  recompute the chain, MACs and checkpoints; JSON result on stdout;
 *                                                       exit 0 intact, 1 tampered (naming the first bad record), 2 error
 *   export [--since ISO] [--until ISO] [--decision D] [--policy P] [--db URL] [--config FILE]
 *                                                       NDJSON on stdout, oldest first
 *   replay ID [--db URL] [--config FILE]                re-run a recorded request via src/pipeline/replay
 *                                                       (replayAuditRecord); exit 0 match, 1 mismatch, 2 error
 *   prune --days N [--db URL] [--config FILE]          delete records older than N days, keep the rest verifiable
 * The store URL and HMAC key come from --db / the config file / REIN_AUDIT_DB and REIN_AUDIT_HMAC_KEY,
 * else the key file next to the SQLite database. These commands never generate a key.
 */
import fs from 'node:fs';
import path from 'node:path';
import { once } from 'node:events';
import { ArgError, parseArgs } from './args';
import { openAuditStore, parseAuditStoreUrl } from '../audit/open-audit-store';
import type { AuditFilter, AuditRecord, AuditStore } from '../audit/audit-store';
import type { Decision } from '../safety/finding';
import { loadConfig } from '../config/config';

const USAGE =
  'usage: rein audit verify [--db URL] [--config FILE]\n' +
  '       rein audit export [--since ISO] [--until ISO] [--decision D] [--policy NAME] [--db URL] [--config FILE]\n' +
  '       rein audit replay ID [--db URL] [--config FILE]\n' +
  '       rein audit prune --days N [--db URL] [--config FILE]\n';

/** What src/pipeline/replay.ts (the integrator's) is expected to export. */
export interface ReplayModule {
  replayAuditRecord(record: AuditRecord, options: { configFile?: string }): Promise<{ match: boolean } & Record<string, unknown>>;
}

const DECISIONS: readonly string[] = ['allow', 'flag', 'sanitize', 'redact', 'block'];

function fail(message: string): number {
  process.stderr.write(`rein audit: ${message}\n`);
  return 2;
}

async function openStore(db: string | undefined, configFile: string | undefined): Promise<AuditStore> {
  const config = loadConfig({ file: configFile, overrides: { auditDb: db } });
  const url = config.audit.store;
  const parsed = parseAuditStoreUrl(url);
  if (parsed.kind === 'sqlite' && parsed.target !== ':memory:' && !fs.existsSync(path.resolve(parsed.target))) {
    throw new Error(`no audit database at ${parsed.target}`);
  }
  return openAuditStore(url, { hmacKey: config.audit.hmac_key, readOnlyKey: true });
}

function isoOption(value: string | undefined, name: string): string | undefined {
  if (value === undefined) return undefined;
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw new ArgError(`--${name} must be an ISO 8601 date-time`);
  return date.toISOString();
}

async function write(text: string): Promise<void> {
  if (!process.stdout.write(text)) await once(process.stdout, 'drain');
}

export async function run(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  let args;
  try {
    args = parseArgs(rest, { strings: ['db', 'config', 'since', 'until', 'decision', 'policy', 'days'] });
  } catch (error) {
    return fail(`${(error as Error).message}\n${USAGE}`);
  }
  if (!sub || !['verify', 'export', 'replay', 'prune'].includes(sub)) return fail(`unknown or missing sub-command\n${USAGE}`);
  let store: AuditStore;
  try {
    if (sub === 'replay' && args.positional.length !== 1) throw new ArgError('replay needs exactly one record ID');
    if (sub !== 'replay' && args.positional.length > 0) throw new ArgError(`unexpected argument '${args.positional[0]}'`);
    store = await openStore(args.values.db, args.values.config);
  } catch (error) {
    return fail((error as Error).message);
  }
  try {
    switch (sub) {
      case 'verify': {
        const result = await store.verify();
        process.stdout.write(`${JSON.stringify(result)}\n`);
        if (result.ok) {
          process.stderr.write(`rein audit: OK — ${result.records} records, head seq ${result.head.seq}, root ${result.head.root}\n`);
          return 0;
        }
        process.stderr.write(`rein audit: TAMPERED — first bad record: seq ${result.first_bad.seq}${result.first_bad.id ? ` (${result.first_bad.id})` : ''}: ${result.first_bad.reason}\n`);
        return 1;
      }
      case 'export': {
        const filter: AuditFilter = { since: isoOption(args.values.since, 'since'), until: isoOption(args.values.until, 'until'), policy: args.values.policy };
        if (args.values.decision !== undefined) {
          if (!DECISIONS.includes(args.values.decision)) throw new ArgError(`--decision must be one of ${DECISIONS.join(', ')}`);
          filter.decision = args.values.decision as Decision;
        }
        for await (const record of store.export(filter)) await write(`${JSON.stringify(record)}\n`);
        return 0;
      }
      case 'prune': {
        const days = Number(args.values.days);
        if (args.values.days === undefined || !Number.isFinite(days) || days < 0) throw new ArgError('prune needs --days N (N >= 0)');
        const result = await store.prune(days);
        process.stdout.write(`${JSON.stringify(result)}\n`);
        return 0;
      }
      case 'replay': {
        const id = args.positional[0];
        const record = await store.get(id);
        if (!record) return fail(`no audit record '${id}'`);
        let replay: ReplayModule;
        try {
          replay = require('../pipeline/replay') as ReplayModule;
        } catch (error) {
          return fail(`replay is not available in this build (src/pipeline/replay is missing: ${(error as Error).message})`);
        }
        if (typeof replay.replayAuditRecord !== 'function') return fail('src/pipeline/replay does not export replayAuditRecord');
        const result = await replay.replayAuditRecord(record, { configFile: args.values.config });
        process.stdout.write(`${JSON.stringify(result)}\n`);
        return result.match ? 0 : 1;
      }
    }
    return 2;
  } catch (error) {
    return fail(error instanceof ArgError ? `${error.message}\n${USAGE}` : (error as Error).message);
  } finally {
    await store.close();
  }
}
