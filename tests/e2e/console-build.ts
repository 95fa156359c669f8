/**
 * ensureConsoleBuilt: `npm test` compiles only TypeScript, so the console suites build dist/console
 * (`vite build console`) when it is missing or older than console/. Jest runs suites in parallel
 * workers: a lock file makes one worker build while the others wait, so no suite ever serves a
 * half-emptied folder.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../helpers/gateway-process';

const SOURCES = path.join(REPO_ROOT, 'console');
const INDEX = path.join(REPO_ROOT, 'dist', 'console', 'index.html');
const LOCK = path.join(REPO_ROOT, 'dist', '.console-build.lock');
const BUILD_TIMEOUT_MS = 120_000;

function newestSourceTime(folder: string): number {
  let newest = 0;
  for (const entry of fs.readdirSync(folder, { withFileTypes: true })) {
    const full = path.join(folder, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSourceTime(full) : fs.statSync(full).mtimeMs);
  }
  return newest;
}

function fresh(): boolean {
  return fs.existsSync(INDEX) && fs.statSync(INDEX).mtimeMs >= newestSourceTime(SOURCES);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export async function ensureConsoleBuilt(): Promise<void> {
  if (fresh()) return;
  fs.mkdirSync(path.dirname(LOCK), { recursive: true });
  const deadline = Date.now() + BUILD_TIMEOUT_MS * 2;
  for (;;) {
    try {
      fs.closeSync(fs.openSync(LOCK, 'wx'));
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      // A lock older than a build's time limit was left by a killed run.
      if (Date.now() - fs.statSync(LOCK, { throwIfNoEntry: false })!.mtimeMs > BUILD_TIMEOUT_MS) fs.rmSync(LOCK, { force: true });
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${LOCK}`);
      await sleep(250);
    }
  }
  try {
    if (fresh()) return;
    execFileSync(process.execPath, [path.join(REPO_ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', 'console', '--logLevel', 'warn'], {
      cwd: REPO_ROOT,
      stdio: 'pipe',
      timeout: BUILD_TIMEOUT_MS,
    });
  } finally {
    fs.rmSync(LOCK, { force: true });
  }
}
