/**
 * A small argument parser for the CLI: `--name value`, `--name=value`, repeated flags collect into
 * arrays, and `--flag` alone is boolean. Unknown flags are an error naming them (exit 2 by the caller).
 */
export interface ArgSpec {
  strings?: string[];
  repeated?: string[];
  booleans?: string[];
}

export interface ParsedArgs {
  positional: string[];
  values: Record<string, string | undefined>;
  lists: Record<string, string[]>;
  flags: Record<string, boolean>;
}

export class ArgError extends Error {}

export function parseArgs(argv: string[], spec: ArgSpec): ParsedArgs {
  const strings = new Set(spec.strings ?? []);
  const repeated = new Set(spec.repeated ?? []);
  const booleans = new Set(spec.booleans ?? []);
  const result: ParsedArgs = { positional: [], values: {}, lists: {}, flags: {} };
  for (const name of repeated) result.lists[name] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) {
      result.positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
    const inline = eq >= 0 ? arg.slice(eq + 1) : undefined;
    if (booleans.has(name)) {
      result.flags[name] = inline === undefined ? true : inline !== 'false';
      continue;
    }
    if (!strings.has(name) && !repeated.has(name)) throw new ArgError(`unknown option --${name}`);
    const value = inline ?? argv[++i];
    if (value === undefined) throw new ArgError(`option --${name} needs a value`);
    if (repeated.has(name)) result.lists[name].push(value);
    else result.values[name] = value;
  }
  return result;
}
