/**
 * startProcess: a Node child process (a fixture server, `rein serve`, another gateway) for the benches,
 * resolved once its output matches `readyPattern` (e.g. `REIN_LISTENING (\d+)`), rejected if it exits
 * first or does not get there within `timeoutMs`.
 */
import { spawn, type ChildProcess } from 'node:child_process';

export function startProcess(
  args: string[],
  readyPattern: RegExp,
  options: { cwd?: string; env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<{ child: ChildProcess; match: RegExpExecArray }> {
  const child = spawn(process.execPath, args, { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${args.join(' ')} did not start:\n${output}`)), options.timeoutMs ?? 60000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = readyPattern.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve({ child, match });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${args.join(' ')} exited with ${code}:\n${output}`));
    });
  });
}
