/**
 * `rein check [--input F] [--output F] [--samples F] [--context F] [--policy NAME] [--policies DIR]`
 * (SPEC.md §2): runs a policy's checks on text produced elsewhere and prints the `/v1/check` response
 * JSON (without audit_id: nothing is recorded). `--samples`/`--context` take a JSON array of strings
 * or a text file (one document). Exit 0, or 1 when the decision is block, or 2 when the check could
 * not run (bad arguments, unreadable file, unknown or invalid policy).
 */
import fs from 'node:fs';
import { ArgError, parseArgs } from './args';
import { isGatewayError } from '../errors/gateway-error';
import { loadBuiltinChecks } from '../policy/builtin-checks';
import { checkText, type CheckRequest } from '../policy/check-text';
import { defaultPolicyDirectory } from '../policy/policy-directory';
import { createPolicyStore } from '../policy/policy-store';
import { parseJson } from '../util/parse-json';

const MAX_FILE_BYTES = 10 * 1024 * 1024;

function readText(file: string, option: string): string {
  let size: number;
  try {
    size = fs.statSync(file).size;
  } catch {
    throw new ArgError(`--${option}: cannot read ${file}`);
  }
  if (size > MAX_FILE_BYTES) throw new ArgError(`--${option}: ${file} is larger than ${MAX_FILE_BYTES} bytes`);
  return fs.readFileSync(file, 'utf8');
}

/** A JSON array of strings, or else the whole file as one document. */
function readDocuments(file: string, option: string): string[] {
  const text = readText(file, option);
  if (text.trimStart().startsWith('[')) {
    const parsed = parseJson<unknown>(text);
    if (parsed.ok && Array.isArray(parsed.value) && parsed.value.every((item) => typeof item === 'string')) return parsed.value as string[];
    if (parsed.ok) throw new ArgError(`--${option}: ${file} is a JSON array but not of strings`);
  }
  return [text];
}

export async function run(argv: string[]): Promise<number> {
  const usage = 'usage: rein check [--input F] [--output F] [--samples F] [--context F] [--policy NAME] [--policies DIR]\n';
  try {
    const args = parseArgs(argv, { strings: ['input', 'output', 'samples', 'context', 'policy', 'policies'] });
    if (args.positional.length > 0) throw new ArgError(`unexpected argument '${args.positional[0]}'`);
    const request: CheckRequest = {};
    if (args.values.input) request.input = readText(args.values.input, 'input');
    if (args.values.output) request.output = readText(args.values.output, 'output');
    if (args.values.samples) request.samples = readDocuments(args.values.samples, 'samples');
    if (args.values.context) request.context = readDocuments(args.values.context, 'context');
    if (request.input === undefined && request.output === undefined && request.context === undefined) {
      throw new ArgError('give --input, --output or --context');
    }
    const registry = loadBuiltinChecks();
    const store = createPolicyStore({ directory: args.values.policies ?? defaultPolicyDirectory(), registry, watch: false, log: () => undefined });
    const name = args.values.policy ?? 'default';
    const policy = store.get(name);
    if (!policy) {
      const failure = store.errors().find((error) => error.name === name);
      const detail = failure ? failure.errors.map((error) => `${error.pointer || '/'}${error.line ? ` (line ${error.line})` : ''}: ${error.message}`).join('; ') : 'not found';
      process.stderr.write(`rein check: policy '${name}': ${detail}\n`);
      return 2;
    }
    const response = await checkText(request, policy, registry, new AbortController().signal);
    process.stdout.write(`${JSON.stringify(response, null, 2)}\n`);
    return response.decision === 'block' ? 1 : 0;
  } catch (error) {
    if (error instanceof ArgError || isGatewayError(error)) {
      process.stderr.write(`rein check: ${error.message}\n${usage}`);
      return 2;
    }
    throw error;
  }
}
