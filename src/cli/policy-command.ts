/**
 * `rein policy validate [PATH]` and `rein policy test [PATH] [--run PATTERN] [--json]` (SPEC.md §2).
 * PATH is a policy file, a `NAME.test.yaml`, or a folder (default: the policies folder). validate
 * prints each policy's revision or its errors as `file:line: pointer: message`; test runs the
 * `NAME.test.yaml` cases through checkText with the builtin checks, like `opa test`. Exit codes:
 * 0 all good, 1 an invalid policy or a failing case, 2 bad arguments.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ArgError, parseArgs } from './args';
import { isGatewayError } from '../errors/gateway-error';
import { loadBuiltinChecks } from '../policy/builtin-checks';
import type { CheckRegistry } from '../policy/check-registry';
import { compilePolicy, type CompileResult } from '../policy/compile-policy';
import { defaultPolicyDirectory } from '../policy/policy-directory';
import { readPolicySources } from '../policy/policy-store';
import { parseTestCasesText, runPolicyTests, type PolicyTestReport } from '../policy/policy-test-runner';
import type { PolicyValidationError } from '../policy/policy-types';

interface Target {
  name: string;
  file: string;
  text: string;
  directory: string;
}

const POLICY_EXTENSION = /\.(yaml|yml|json)$/;

function targetsOf(inputPath: string): Target[] {
  const resolved = path.resolve(inputPath);
  if (!fs.existsSync(resolved)) throw new ArgError(`no such file or folder: ${inputPath}`);
  if (fs.statSync(resolved).isDirectory()) {
    return [...readPolicySources(resolved).values()].map((source) => ({
      name: source.name, file: source.file ?? source.name, text: source.text, directory: resolved,
    }));
  }
  const directory = path.dirname(resolved);
  let file = resolved;
  const base = path.basename(resolved);
  if (/\.test\.ya?ml$/.test(base)) {
    const stem = base.replace(/\.test\.ya?ml$/, '');
    const sibling = ['yaml', 'yml', 'json'].map((extension) => path.join(directory, `${stem}.${extension}`)).find((candidate) => fs.existsSync(candidate));
    if (!sibling) throw new ArgError(`no policy file beside ${inputPath}`);
    file = sibling;
  } else if (!POLICY_EXTENSION.test(base)) throw new ArgError(`${inputPath}: a policy file ends in .yaml, .yml or .json`);
  return [{ name: path.basename(file).replace(POLICY_EXTENSION, ''), file, text: fs.readFileSync(file, 'utf8'), directory }];
}

function compileTarget(target: Target, registry: CheckRegistry): CompileResult {
  const siblings = readPolicySources(target.directory);
  return compilePolicy({ name: target.name, text: target.text, file: target.file }, { registry, lookup: (name) => siblings.get(name) });
}

function formatError(file: string, error: PolicyValidationError): string {
  return `${path.relative(process.cwd(), file) || file}${error.line ? `:${error.line}` : ''}: ${error.pointer || '/'}: ${error.message}`;
}

async function validate(targets: Target[], registry: CheckRegistry): Promise<number> {
  let invalid = 0;
  for (const target of targets) {
    const result = compileTarget(target, registry);
    if (result.ok) {
      process.stdout.write(`ok      ${target.name}  ${result.policy.revision}\n`);
    } else {
      invalid++;
      process.stdout.write(`invalid ${target.name}\n`);
      for (const error of result.errors) process.stdout.write(`  ${formatError(target.file, error)}\n`);
    }
  }
  process.stdout.write(`${targets.length - invalid} valid, ${invalid} invalid\n`);
  return invalid > 0 ? 1 : 0;
}

async function test(targets: Target[], registry: CheckRegistry, pattern: string | undefined, json: boolean): Promise<number> {
  const reports: PolicyTestReport[] = [];
  let problems = 0;
  for (const target of targets) {
    const casesFile = ['test.yaml', 'test.yml'].map((extension) => path.join(target.directory, `${target.name}.${extension}`)).find((candidate) => fs.existsSync(candidate));
    if (!casesFile) continue;
    const compiled = compileTarget(target, registry);
    if (!compiled.ok) {
      problems++;
      process.stderr.write(`invalid policy ${target.name}:\n${compiled.errors.map((error) => `  ${formatError(target.file, error)}`).join('\n')}\n`);
      continue;
    }
    const cases = parseTestCasesText(fs.readFileSync(casesFile, 'utf8'));
    if (!cases.ok) {
      problems++;
      process.stderr.write(`invalid test file ${casesFile}:\n${cases.errors.map((error) => `  ${formatError(casesFile, error)}`).join('\n')}\n`);
      continue;
    }
    const report = await runPolicyTests(cases.cases, compiled.policy, registry, { run: pattern });
    reports.push(report);
    if (!json) {
      for (const result of report.results) {
        const label = result.status === 'pass' ? 'PASS' : result.status === 'fail' ? 'FAIL' : 'SKIP';
        process.stdout.write(`${label} ${report.policy}: ${result.name}${result.reason ? ` (${result.reason})` : ''}\n`);
        for (const failure of result.failures) process.stdout.write(`       ${failure}\n`);
      }
    }
  }
  const passed = reports.reduce((sum, report) => sum + report.passed, 0);
  const failed = reports.reduce((sum, report) => sum + report.failed, 0);
  const skipped = reports.reduce((sum, report) => sum + report.skipped, 0);
  if (json) process.stdout.write(`${JSON.stringify({ passed, failed, skipped, invalid: problems, reports }, null, 2)}\n`);
  else process.stdout.write(`${'-'.repeat(40)}\nPASS: ${passed}  FAIL: ${failed}  SKIP: ${skipped}${problems ? `  INVALID: ${problems}` : ''}\n`);
  return failed > 0 || problems > 0 ? 1 : 0;
}

export async function run(argv: string[]): Promise<number> {
  const usage = 'usage: rein policy validate [PATH] | rein policy test [PATH] [--run PATTERN] [--json]\n';
  try {
    const [subcommand, ...rest] = argv;
    if (subcommand !== 'validate' && subcommand !== 'test') {
      process.stderr.write(usage);
      return 2;
    }
    const args = parseArgs(rest, { strings: subcommand === 'test' ? ['run'] : [], booleans: ['json'] });
    if (args.positional.length > 1) throw new ArgError('at most one PATH');
    const targets = targetsOf(args.positional[0] ?? defaultPolicyDirectory());
    const registry = loadBuiltinChecks();
    return subcommand === 'validate' ? await validate(targets, registry) : await test(targets, registry, args.values.run, args.flags.json === true);
  } catch (error) {
    if (error instanceof ArgError || isGatewayError(error)) {
      process.stderr.write(`rein policy: ${error.message}\n${usage}`);
      return 2;
    }
    throw error;
  }
}
