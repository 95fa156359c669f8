/**
 * Transpiles the TypeScript sources a child process needs (the entry files and every relative import
 * they reach) into a temp folder with the same layout, so forked children start as plain node —
 * no TypeScript compiler loaded per child (the CI machine is small). Children get NODE_PATH pointing
 * at this checkout's node_modules. No type-check here: tsc --noEmit covers that.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ts from 'typescript';

export const REPO_ROOT = path.resolve(__dirname, '../../..');

function resolveRelative(from: string, specifier: string): string | undefined {
  const base = path.resolve(path.dirname(from), specifier);
  for (const candidate of [`${base}.ts`, path.join(base, 'index.ts'), base]) {
    if (candidate.endsWith('.ts') && fs.existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** Returns the output folder; `entries` are repo-relative .ts paths. */
export function compileForChild(entries: string[]): string {
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rein-child-'));
  const pending = entries.map((entry) => path.resolve(REPO_ROOT, entry));
  const done = new Set<string>();
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (done.has(file)) continue;
    done.add(file);
    const source = fs.readFileSync(file, 'utf8');
    for (const imported of ts.preProcessFile(source, true, true).importedFiles) {
      if (!imported.fileName.startsWith('.')) continue;
      const resolved = resolveRelative(file, imported.fileName);
      if (resolved) pending.push(resolved);
    }
    const output = ts.transpileModule(source, {
      fileName: file,
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true, resolveJsonModule: true },
    });
    const target = path.join(outDir, path.relative(REPO_ROOT, file)).replace(/\.ts$/, '.js');
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, output.outputText);
  }
  return outDir;
}

export function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, NODE_PATH: path.join(REPO_ROOT, 'node_modules'), ...extra };
}
