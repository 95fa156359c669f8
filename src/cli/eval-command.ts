/**
 * `rein eval detectors --data FILE.jsonl [--data …] [--negatives FILE.jsonl]… [--detector ID]… [--role ROLE] [--split all|held-back|training]
 *  [--policy NAME] [--no-policy] [--out FILE]` and `rein eval selfcheck …` (SPEC.md §2, §6).
 * `detectors`: all `--data` files are pooled; progress goes to stderr, the JSON report to stdout and `--out`.
 * `--negatives` pools a file with every label forced to 0 (hard negatives such as plain harmful requests). `--role` is the role for rows without one (default `prompt`; `context` screens the texts as untrusted documents).
 * `--split` keeps only one part of the deterministic dev split (src/safety/detectors/dev-split.ts) — `held-back` is
 * the part no detector was trained or calibrated on. Exit 0 once the results are written; 2 for bad arguments.
 * `selfcheck` is dispatched to src/safety/eval/selfcheck-eval.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ArgError, parseArgs } from './args';
import { isGatewayError } from '../errors/gateway-error';
import { BUILTIN_DETECTOR_IDS, createBuiltinDetectors } from '../safety/detectors/index';
import { isHeldBack } from '../safety/detectors/dev-split';
import { evaluateDetectors, readExamples, type ExampleRole, type LabeledExample } from '../safety/eval/detector-eval';

const USAGE = 'usage: rein eval detectors --data FILE.jsonl [--data …] [--negatives FILE.jsonl]… [--detector ID]… [--role ROLE] [--split all|held-back|training] [--policy NAME] [--no-policy] [--out FILE]\n       rein eval selfcheck --data FILE.json [--samples N] [--variant …] [--out FILE]\n';
const ROLES = ['prompt', 'user', 'system', 'tool', 'context'];

async function policyBlocker(name: string): Promise<{ name: string; blocks: (example: LabeledExample) => Promise<boolean> } | string> {
  try {
    /* eslint-disable @typescript-eslint/no-require-imports */
    const { loadBuiltinChecks } = require('../policy/builtin-checks');
    const { createPolicyStore } = require('../policy/policy-store');
    const { defaultPolicyDirectory } = require('../policy/policy-directory');
    const { runInputChecks } = require('../policy/policy-engine');
    /* eslint-enable @typescript-eslint/no-require-imports */
    const registry = loadBuiltinChecks({ log: () => undefined });
    const store = createPolicyStore({ directory: defaultPolicyDirectory(), registry, watch: false, log: () => undefined });
    const policy = store.get(name);
    if (!policy) return `policy '${name}' could not be loaded`;
    return {
      name,
      async blocks(example: LabeledExample): Promise<boolean> {
        const parts = example.role === 'context' ? { context: [example.text] } : example.role === 'prompt' ? { prompt: example.text } : { messages: [{ role: example.role, content: example.text }] };
        const outcome = await runInputChecks(policy, parts, registry, new AbortController().signal);
        return outcome.decision === 'block';
      },
    };
  } catch (error) {
    return `policy engine unavailable (${(error as Error).message})`;
  }
}

async function runDetectors(argv: string[]): Promise<number> {
  const args = parseArgs(argv, { strings: ['out', 'role', 'split', 'policy'], repeated: ['data', 'negatives', 'detector'], booleans: ['no-policy'] });
  if (args.positional.length) throw new ArgError(`unexpected argument '${args.positional[0]}'`);
  if (args.lists.data.length + args.lists.negatives.length === 0) throw new ArgError('give at least one --data FILE.jsonl');
  const role = (args.values.role ?? 'prompt') as ExampleRole;
  if (!ROLES.includes(role)) throw new ArgError(`--role must be one of ${ROLES.join(', ')}`);
  const split = args.values.split ?? 'all';
  if (!['all', 'held-back', 'training'].includes(split)) throw new ArgError('--split must be all, held-back or training');
  for (const id of args.lists.detector) {
    if (!(BUILTIN_DETECTOR_IDS as readonly string[]).includes(id)) throw new ArgError(`unknown detector '${id}' (known: ${BUILTIN_DETECTOR_IDS.join(', ')})`);
  }
  let examples: LabeledExample[] = [];
  for (const file of args.lists.data) {
    if (!fs.existsSync(file)) throw new ArgError(`--data: cannot read ${file}`);
    examples.push(...readExamples(file, role));
  }
  // Hard negatives: rows labelled 1 for another purpose (e.g. plain harmful requests, which are not attacks on the gateway).
  for (const file of args.lists.negatives) {
    if (!fs.existsSync(file)) throw new ArgError(`--negatives: cannot read ${file}`);
    examples.push(...readExamples(file, role).map((example) => ({ ...example, label: 0 as const })));
  }
  if (split !== 'all') examples = examples.filter((example) => isHeldBack(example.text) === (split === 'held-back'));
  const wanted = new Set(args.lists.detector.length ? args.lists.detector : BUILTIN_DETECTOR_IDS);
  const detectors = createBuiltinDetectors().filter((detector) => wanted.has(detector.id));
  process.stderr.write(`rein eval detectors: ${examples.length} examples (${split}), detectors ${detectors.map((detector) => detector.id).join(', ')}\n`);
  let note: string | undefined;
  let policyDecision: Exclude<Awaited<ReturnType<typeof policyBlocker>>, string> | undefined;
  if (!args.flags['no-policy']) {
    const blocker = await policyBlocker(args.values.policy ?? 'default');
    if (typeof blocker === 'string') note = `policy block omitted: ${blocker}`;
    else policyDecision = blocker;
  }
  const report = await evaluateDetectors(examples, detectors, {
    policyDecision,
    onProgress: (done, total, id) => process.stderr.write(`  ${id}: ${done}/${total}\n`),
  });
  if (note) report.note = note;
  const json = `${JSON.stringify(report, null, 2)}\n`;
  if (args.values.out) {
    fs.mkdirSync(path.dirname(path.resolve(args.values.out)), { recursive: true });
    fs.writeFileSync(args.values.out, json);
  }
  process.stdout.write(json);
  return 0;
}

export async function run(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  try {
    if (sub === 'detectors') return await runDetectors(rest);
    if (sub === 'selfcheck') {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const selfcheck = require('../safety/eval/selfcheck-eval') as { run(argv: string[]): Promise<number> };
      return await selfcheck.run(rest);
    }
    process.stderr.write(`rein eval: unknown sub-command '${sub ?? ''}'\n${USAGE}`);
    return 2;
  } catch (error) {
    if (error instanceof ArgError || isGatewayError(error)) {
      process.stderr.write(`rein eval: ${error.message}\n${USAGE}`);
      return 2;
    }
    throw error;
  }
}
