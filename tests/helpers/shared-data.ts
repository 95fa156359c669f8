/**
 * Suites that read ../shared/data (dev sets, corpora) run only where that folder exists — in the team's
 * checkouts and CI, not on a user's machine. Elsewhere they skip and say why.
 */
import fs from 'node:fs';
import path from 'node:path';

export const SHARED_DATA_DIR = process.env.REIN_SHARED_DATA ?? path.resolve(__dirname, '../../../shared/data');

export function sharedDataPath(...parts: string[]): string {
  return path.join(SHARED_DATA_DIR, ...parts);
}

export function hasSharedData(...parts: string[]): boolean {
  return fs.existsSync(sharedDataPath(...parts));
}

/** describe() when the shared data is present, otherwise a skipped suite whose name states the reason. */
export function describeWithSharedData(name: string, parts: string[], body: () => void): void {
  if (hasSharedData(...parts)) {
    describe(name, body);
  } else {
    describe.skip(`${name} [skipped: ${path.join('../shared/data', ...parts)} is not present on this machine]`, body);
  }
}
