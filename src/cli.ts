/**
 * The `rein` command line (SPEC.md §2). Each sub-command lives in src/cli/<name>-command.ts and exports
 * `run(argv: string[]): Promise<number>` (the exit code). Logs go to stderr; stdout carries results only.
 */
import path from 'node:path';

const COMMANDS: Record<string, { module: string; summary: string }> = {
  serve: { module: './cli/serve-command', summary: 'run the gateway' },
  generate: { module: './cli/generate-command', summary: 'one generation in-process, prints the /v1/generate JSON' },
  grammar: { module: './cli/grammar-command', summary: 'grammar check FILE.gbnf [--text S | --file F]' },
  schema: { module: './cli/schema-command', summary: 'schema check FILE.json [--text S | --file F]' },
  policy: { module: './cli/policy-command', summary: 'policy validate [PATH] | policy test [PATH] [--run PATTERN]' },
  check: { module: './cli/check-command', summary: 'run a policy\'s checks on given text' },
  audit: { module: './cli/audit-command', summary: 'audit verify | export | replay ID' },
  keys: { module: './cli/keys-command', summary: 'keys hash (reads a key on stdin)' },
  bench: { module: './cli/bench-command', summary: 'bench maskbench | bench serve' },
  eval: { module: './cli/eval-command', summary: 'eval detectors | eval selfcheck' },
};

function usage(): string {
  const lines = Object.entries(COMMANDS).map(([name, command]) => `  rein ${name.padEnd(9)} ${command.summary}`);
  return `usage: rein <command> [options]\n\n${lines.join('\n')}\n`;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`rein: unknown command '${name}'\n${usage()}`);
    return 2;
  }
  let loaded: { run(argv: string[]): Promise<number> };
  try {
    loaded = require(path.join(__dirname, command.module));
  } catch (error) {
    const notFound = (error as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND' && (error as Error).message.includes(path.basename(command.module));
    if (!notFound) throw error;
    process.stderr.write(`rein: command '${name}' is not available in this build\n`);
    return 2;
  }
  return loaded.run(rest);
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`rein: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
      process.exitCode = 2;
    },
  );
}
