/**
 * createPolicyStore: the policies in force. Loads every policy file in a folder (`NAME.yaml`,
 * `NAME.yml` or `NAME.json`; `NAME.test.yaml` holds its test cases; `policy.schema.json` is skipped),
 * watches the folder (fs.watch, debounced) and reloads on change. A file that fails to parse or
 * validate never replaces the good version already loaded: the good one stays in force, the error is
 * logged, counted (`rein_policy_reload_errors_total` via the counter given) and listed by `errors()`
 * for /readyz. `put` validates first, then writes atomically (temp file + rename), then reloads.
 */
import fs from 'node:fs';
import path from 'node:path';
import { GatewayError } from '../errors/gateway-error';
import { parseJson } from '../util/parse-json';
import type { CheckRegistry } from './check-registry';
import { compilePolicy, type CompileResult, type PolicySourceText } from './compile-policy';
import type { Policy, PolicyValidationError } from './policy-types';

export const POLICY_NAME_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;
const POLICY_FILE = /^([a-z0-9][a-z0-9_-]{0,63})\.(yaml|yml|json)$/;

export interface PolicyLoadError {
  name: string;
  file: string;
  errors: PolicyValidationError[];
  /** Whether an earlier good version is still in force. */
  keptPrevious: boolean;
}

export interface PolicySummary {
  name: string;
  revision: string;
  description?: string;
  extends?: string;
  file: string;
}

export interface PolicyStoreOptions {
  directory: string;
  registry: CheckRegistry;
  /** Watch the folder for changes (default true). */
  watch?: boolean;
  debounceMs?: number;
  /** Incremented once per file that fails on a (re)load, labelled by policy. */
  reloadErrorCounter?: { inc(labels: { policy: string }): void };
  log?: (message: string) => void;
  /** Called after every reload with the names whose revision changed. */
  onReload?: (changed: string[]) => void;
}

export interface PolicyStore {
  get(name: string): Policy | undefined;
  list(): PolicySummary[];
  /** Source text of a loaded policy file. */
  source(name: string): PolicySourceText | undefined;
  /** Text of `NAME.test.yaml`, when present. */
  testCasesText(name: string): string | undefined;
  /** Files that currently fail to load (for /readyz). */
  errors(): PolicyLoadError[];
  /** Validates a text as policy `name` against the files in the store (its parents). */
  validate(name: string, text: string): CompileResult;
  /** Re-reads the folder now. */
  reload(): PolicyLoadError[];
  /** Validates, writes atomically and reloads; throws GatewayError policy_invalid with details.errors. */
  put(name: string, text: string): Promise<Policy>;
  close(): void;
}

/** Policy sources by name. `duplicates` collects files ignored because another file has the same name. */
export function readPolicySources(directory: string, duplicates?: Array<{ name: string; file: string; used: string }>): Map<string, PolicySourceText> {
  const sources = new Map<string, PolicySourceText>();
  let files: string[];
  try {
    files = fs.readdirSync(directory).sort();
  } catch (error) {
    throw new GatewayError('unavailable', `cannot read the policy folder ${directory}: ${(error as Error).message}`);
  }
  for (const file of files) {
    if (file.endsWith('.test.yaml') || file.endsWith('.test.yml') || file === 'policy.schema.json') continue;
    const match = POLICY_FILE.exec(file);
    if (!match) continue;
    const name = match[1];
    if (sources.has(name)) {
      // NAME.json and NAME.yaml both present: the first in sort order wins, and the other is reported.
      duplicates?.push({ name, file: path.join(directory, file), used: sources.get(name)!.file ?? name });
      continue;
    }
    const full = path.join(directory, file);
    try {
      sources.set(name, { name, text: fs.readFileSync(full, 'utf8'), file: full });
    } catch {
      // Removed between readdir and read: the next reload settles it.
    }
  }
  return sources;
}

export function createPolicyStore(options: PolicyStoreOptions): PolicyStore {
  const log = options.log ?? ((message: string) => process.stderr.write(`${message}\n`));
  let sources = new Map<string, PolicySourceText>();
  let policies = new Map<string, { policy: Policy; source: PolicySourceText }>();
  let loadErrors: PolicyLoadError[] = [];

  const compile = (source: PolicySourceText, all: Map<string, PolicySourceText>) =>
    compilePolicy(source, { registry: options.registry, lookup: (name) => all.get(name) });

  function reload(): PolicyLoadError[] {
    const duplicates: Array<{ name: string; file: string; used: string }> = [];
    const next = readPolicySources(options.directory, duplicates);
    const loaded = new Map<string, { policy: Policy; source: PolicySourceText }>();
    const errors: PolicyLoadError[] = duplicates.map((duplicate) => ({
      name: duplicate.name,
      file: duplicate.file,
      errors: [{ pointer: '', message: `ignored: ${path.basename(duplicate.used)} defines policy '${duplicate.name}' too` }],
      keptPrevious: true,
    }));
    for (const duplicate of duplicates) log(`rein: policy file ${duplicate.file} ignored: ${duplicate.used} defines '${duplicate.name}' too`);
    const changed: string[] = [];
    for (const [name, source] of next) {
      const result = compile(source, next);
      const previous = policies.get(name);
      if (result.ok) {
        loaded.set(name, { policy: result.policy, source });
        if (previous?.policy.revision !== result.policy.revision) changed.push(name);
        continue;
      }
      if (previous) loaded.set(name, previous);
      const failure = { name, file: source.file ?? name, errors: result.errors, keptPrevious: previous !== undefined };
      errors.push(failure);
      options.reloadErrorCounter?.inc({ policy: name });
      const first = result.errors[0];
      log(`rein: policy '${name}' (${failure.file}) failed to load` +
        `${first ? ` at ${first.pointer || '/'}${first.line ? ` line ${first.line}` : ''}: ${first.message}` : ''}` +
        (previous ? `; keeping revision ${previous.policy.revision}` : ''));
    }
    for (const name of policies.keys()) if (!next.has(name)) changed.push(name);
    sources = next;
    policies = loaded;
    loadErrors = errors;
    if (changed.length > 0) options.onReload?.(changed);
    return errors;
  }

  reload();

  let watcher: fs.FSWatcher | undefined;
  let timer: NodeJS.Timeout | undefined;
  if (options.watch !== false) {
    try {
      watcher = fs.watch(options.directory, { persistent: false }, () => {
        clearTimeout(timer);
        timer = setTimeout(() => {
          try {
            reload();
          } catch (error) {
            log(`rein: policy reload failed: ${(error as Error).message}`);
          }
        }, options.debounceMs ?? 200);
      });
      watcher.on('error', (error) => log(`rein: policy folder watch error: ${error.message}`));
    } catch (error) {
      log(`rein: cannot watch ${options.directory} (${(error as Error).message}); call reload() or restart to pick up changes`);
    }
  }

  return {
    get: (name) => policies.get(name)?.policy,
    list: () => [...policies.values()].map(({ policy, source }) => ({
      name: policy.name,
      revision: policy.revision,
      ...(policy.description ? { description: policy.description } : {}),
      ...(policy.ancestry[0] ? { extends: policy.ancestry[0] } : {}),
      file: path.basename(source.file ?? policy.name),
    })).sort((a, b) => a.name.localeCompare(b.name)),
    source: (name) => policies.get(name)?.source,
    testCasesText(name) {
      if (!POLICY_NAME_PATTERN.test(name)) return undefined;
      for (const extension of ['test.yaml', 'test.yml']) {
        const file = path.join(options.directory, `${name}.${extension}`);
        if (fs.existsSync(file)) return fs.readFileSync(file, 'utf8');
      }
      return undefined;
    },
    errors: () => loadErrors,
    validate(name, text) {
      const all = new Map(sources);
      const source = { name, text };
      all.set(name, source);
      return compile(source, all);
    },
    reload,
    async put(name, text) {
      if (!POLICY_NAME_PATTERN.test(name)) {
        throw new GatewayError('invalid_request', `policy name '${name}' must match ${POLICY_NAME_PATTERN}`, { param: '/name' });
      }
      const all = new Map(sources);
      all.set(name, { name, text });
      const result = compile({ name, text }, all);
      if (!result.ok) {
        throw new GatewayError('policy_invalid', `policy '${name}' is invalid: ${result.errors[0]?.message ?? 'unknown error'}`, { details: { errors: result.errors } });
      }
      // Keep the existing file (and its extension) unless it is .json and the new text is not JSON.
      const existing = sources.get(name)?.file;
      const keepExisting = existing !== undefined && (!existing.endsWith('.json') || parseJson(text).ok);
      const target = keepExisting ? existing : path.join(options.directory, `${name}.yaml`);
      const temporary = path.join(options.directory, `.${name}.${process.pid}.${Date.now()}.tmp`);
      await fs.promises.writeFile(temporary, text, 'utf8');
      await fs.promises.rename(temporary, target);
      if (existing !== undefined && existing !== target) await fs.promises.rm(existing, { force: true });
      reload();
      const stored = policies.get(name)?.policy;
      if (!stored || stored.revision !== result.policy.revision) {
        throw new GatewayError('internal_error', `policy '${name}' was written but did not load as validated`);
      }
      return stored;
    },
    close() {
      clearTimeout(timer);
      watcher?.close();
    },
  };
}
