/**
 * The PostgreSQL audit store against the shared conformance cases, on the real local server, one
 * fresh schema per test (dropped afterwards).
 */
import { execSync } from 'node:child_process';
import { openAuditStore } from '../../../src/audit/open-audit-store';
import { defineAuditStoreConformance } from '../../unit/audit/audit-store-conformance';
import { dropSchema, execInSchema, TEST_POSTGRES_URL, uniqueSchema } from './pg-test-schema';

const KEY = Buffer.alloc(32, 2);

// Reachability is decided before the suites are defined, so an unreachable server gives a skipped, named suite.
function reachable(): boolean {
  try {
    execSync(`node -e "const {Client}=require('pg');const c=new Client({connectionString:process.argv[1],connectionTimeoutMillis:2000});c.connect().then(()=>c.end()).then(()=>process.exit(0),()=>process.exit(1))" '${TEST_POSTGRES_URL}'`, { stdio: 'ignore', timeout: 10000 });
    return true;
  } catch {
    return false;
  }
}

if (reachable()) {
  defineAuditStoreConformance('postgres', async () => {
    const schema = uniqueSchema();
    return {
      key: KEY,
      open: (options = {}) => openAuditStore(`${TEST_POSTGRES_URL}?schema=${schema}`, { hmacKey: KEY, ...options }),
      exec: (sql: string) => execInSchema(schema, sql),
      cleanup: () => dropSchema(schema),
    };
  });
} else {
  describe.skip(`postgres audit store [skipped: no PostgreSQL at ${TEST_POSTGRES_URL}]`, () => {
    test('conformance', () => undefined);
  });
}
