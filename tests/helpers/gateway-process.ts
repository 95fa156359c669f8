/**
 * Starts a real gateway process (`node dist/src/cli.js serve`, built by `npm test`'s tsc step) on a free
 * loopback port with its own config, audit database and data folder, and stops it afterwards. Integration
 * tests talk to it over real HTTP.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');
export const CLI = path.join(REPO_ROOT, 'dist', 'src', 'cli.js');
export const TINY_LLAMA = path.join(REPO_ROOT, 'tests', 'fixtures', 'models', 'tiny-llama');
export const DEMO_MODEL = path.join(REPO_ROOT, 'models', 'rein-demo');

export function demoModelPresent(): boolean {
  return fs.existsSync(path.join(DEMO_MODEL, 'onnx', 'model.onnx'));
}

export interface GatewayProcess {
  url: string;
  port: number;
  dir: string;
  child: ChildProcess;
  logs(): string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface StartGatewayOptions {
  /** Config object written as JSON (merged over a default using the tiny fixture model). */
  config?: Record<string, unknown>;
  args?: string[];
  env?: Record<string, string>;
  /** Reuse a folder (e.g. to restart on the same audit database). */
  dir?: string;
  timeoutMs?: number;
}

export async function startGateway(options: StartGatewayOptions = {}): Promise<GatewayProcess> {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npx tsc -p tsconfig.json\` (npm test does) before the integration tests`);
  const dir = options.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'rein-it-'));
  const config = {
    models: [{ id: 'tiny-llama', path: TINY_LLAMA }],
    policies: { dir: path.join(REPO_ROOT, 'policies'), default: 'default' },
    audit: { store: `sqlite:${path.join(dir, 'audit.sqlite')}` },
    logging: { level: 'warn' },
    ...options.config,
  };
  const configFile = path.join(dir, 'rein.json');
  fs.writeFileSync(configFile, JSON.stringify(config, null, 2));
  const child = spawn(process.execPath, [CLI, 'serve', '--config', configFile, '--port', '0', ...(options.args ?? [])], {
    cwd: REPO_ROOT,
    env: { ...process.env, REIN_PRINT_PORT: '1', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gateway did not start in time:\n${output}`)), options.timeoutMs ?? 60000);
    const onData = () => {
      const match = /REIN_LISTENING (\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`gateway exited with ${code} before listening:\n${output}`));
    });
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    dir,
    child,
    logs: () => output,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill(signal);
      return exited;
    },
  };
}

/** Reads an SSE response body into its `data:` payloads. */
export async function readSse(response: Response): Promise<Array<{ event?: string; data: string }>> {
  const text = await response.text();
  return text
    .split(/\n\n/)
    .filter((block) => block.trim().length > 0)
    .map((block) => {
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = block
        .split('\n')
        .filter((line) => line.startsWith('data: '))
        .map((line) => line.slice(6))
        .join('\n');
      return { event, data };
    });
}
