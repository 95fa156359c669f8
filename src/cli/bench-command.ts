/**
 * `rein bench maskbench …` and `rein bench serve …` (SPEC.md §2, §6). maskbench is implemented in
 * src/bench/maskbench.ts; serve lives in src/bench/serve-bench.ts (another part of the project; "not
 * available" when absent). Exit 0 once results are written, whatever the figures; 2 for bad arguments.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ArgError, parseArgs } from './args';

const USAGE =
  'usage: rein bench maskbench --data DIR [--tokenizer llama3|gpt2|demo] [--limit N] [--timeout-ms MS] [--out FILE] [--mode tokens|text]\n' +
  '       rein bench serve [--concurrency 1,4,16,64] [--constraint FILE] [--out FILE]\n';

function positiveInteger(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^[0-9]+$/.test(value) || Number(value) <= 0) throw new ArgError(`--${name} must be a positive integer`);
  return Number(value);
}

async function maskbench(argv: string[]): Promise<number> {
  let options;
  try {
    const args = parseArgs(argv, { strings: ['data', 'tokenizer', 'limit', 'timeout-ms', 'out', 'mode'] });
    if (args.positional.length > 0) throw new ArgError(`unexpected argument ${args.positional[0]}`);
    if (!args.values.data) throw new ArgError('--data DIR is required');
    const tokenizer = args.values.tokenizer ?? 'llama3';
    if (tokenizer !== 'llama3' && tokenizer !== 'gpt2' && tokenizer !== 'demo') throw new ArgError('--tokenizer must be llama3, gpt2 or demo');
    const mode = args.values.mode ?? 'tokens';
    if (mode !== 'tokens' && mode !== 'text') throw new ArgError('--mode must be tokens or text');
    if (!fs.existsSync(args.values.data) || !fs.statSync(args.values.data).isDirectory()) throw new ArgError(`--data ${args.values.data} is not a directory`);
    options = {
      dataDir: args.values.data,
      tokenizer: tokenizer as 'llama3' | 'gpt2' | 'demo',
      limit: positiveInteger(args.values.limit, 'limit'),
      timeoutMs: positiveInteger(args.values['timeout-ms'], 'timeout-ms') ?? 10_000,
      out: args.values.out,
      mode: mode as 'tokens' | 'text',
    };
  } catch (error) {
    process.stderr.write(`rein bench maskbench: ${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  const { runMaskBench, groupFailures } = await import('../bench/maskbench');
  const interactive = process.stderr.isTTY === true;
  let lastPrint = 0;
  const failuresFileFor = (out: string): string => out.replace(/(\.json)?$/, '.failures.json');
  const writeResults = (out: string, figures: unknown, reports: Parameters<typeof groupFailures>[0]): void => {
    fs.mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
    fs.writeFileSync(out, `${JSON.stringify(figures, null, 2)}\n`);
    fs.writeFileSync(failuresFileFor(out), `${JSON.stringify(groupFailures(reports), null, 1)}\n`);
  };
  const out = options.out;
  const { result, reports } = await runMaskBench({
    ...options,
    // partial figures are written as the run goes, so a stopped run still leaves its results
    checkpoint: out ? (partial) => writeResults(out, partial.result, partial.reports) : undefined,
    progress: (done, total, summary) => {
      const now = Date.now();
      if (done !== total && now - lastPrint < (interactive ? 200 : 5000)) return;
      lastPrint = now;
      const line = `maskbench ${done}/${total}: passing ${summary.passing}, failing ${summary.failing}, unsupported ${summary.unsupported}, timeouts ${summary.timeouts}`;
      process.stderr.write(interactive ? `\r${line}` : `${line}\n`);
    },
  });
  if (interactive) process.stderr.write('\n');
  const text = `${JSON.stringify(result, null, 2)}\n`;
  if (options.out) {
    writeResults(options.out, result, reports);
    process.stderr.write(`maskbench: results in ${options.out}, failures by cause in ${failuresFileFor(options.out)}\n`);
  }
  process.stdout.write(text);
  return 0;
}

export async function run(argv: string[]): Promise<number> {
  const [subcommand, ...rest] = argv;
  if (subcommand === 'maskbench') return maskbench(rest);
  if (subcommand === 'serve') {
    let serveBench: { run(argv: string[]): Promise<number> };
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      serveBench = require('../bench/serve-bench');
    } catch (error) {
      process.stderr.write(`rein bench serve: not available in this build (${(error as Error).message.split('\n')[0]})\n`);
      return 2;
    }
    return serveBench.run(rest);
  }
  process.stderr.write(USAGE);
  return 2;
}
