/**
 * defaultPolicyDirectory: where `policies/` is when nobody says — REIN_POLICY_DIR, else ./policies in
 * the working directory, else the `policies/` folder of the installed package (found by walking up
 * from this file, so it works from src/ under ts-jest and from dist/ after the build).
 */
import fs from 'node:fs';
import path from 'node:path';

export function defaultPolicyDirectory(): string {
  if (process.env.REIN_POLICY_DIR) return path.resolve(process.env.REIN_POLICY_DIR);
  const local = path.resolve('policies');
  if (fs.existsSync(path.join(local, 'policy.schema.json'))) return local;
  let directory = __dirname;
  for (let depth = 0; depth < 6; depth++) {
    const candidate = path.join(directory, 'policies');
    if (fs.existsSync(path.join(candidate, 'policy.schema.json')) && fs.existsSync(path.join(directory, 'package.json'))) return candidate;
    directory = path.dirname(directory);
  }
  return local;
}
