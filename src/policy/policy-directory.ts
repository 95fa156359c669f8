/**
 * defaultPolicyDirectory: where `policies/` is when nobody says — REIN_POLICY_DIR, else ./policies in
 * the working directory, else the `policies/` folder of the package (src/ under ts-jest, dist/ built).
 */
import fs from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../util/package-root';

export function defaultPolicyDirectory(): string {
  if (process.env.REIN_POLICY_DIR) return path.resolve(process.env.REIN_POLICY_DIR);
  const local = path.resolve('policies');
  if (fs.existsSync(path.join(local, 'policy.schema.json'))) return local;
  return path.join(packageRoot(), 'policies');
}
