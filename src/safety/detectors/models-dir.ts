/**
 * Where the shipped guard models live: `models/` at the repository (or installed package) root. Found by walking
 * up from this file, so that it works from src/ under ts-jest and from dist/src/ after a build; REIN_MODELS_DIR
 * overrides it.
 */
import fs from 'node:fs';
import path from 'node:path';

export function defaultModelsDir(): string {
  if (process.env.REIN_MODELS_DIR) return process.env.REIN_MODELS_DIR;
  let directory = __dirname;
  for (let depth = 0; depth < 6; depth++) {
    const candidate = path.join(directory, 'models');
    if (fs.existsSync(path.join(candidate, 'guards'))) return candidate;
    directory = path.dirname(directory);
  }
  return path.resolve(process.cwd(), 'models');
}
