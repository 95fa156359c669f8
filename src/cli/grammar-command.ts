/**
 * `rein grammar check FILE.gbnf [--text S | --file F]` (SPEC.md §2): compiles a GBNF grammar and,
 * given a text, says whether the whole text matches. Exit 0 = compiled (and, with a text, a complete
 * match); 1 = no match (stdout says where the text stopped matching, or that it ended too early);
 * 2 = compile error ("FILE:line:col: message" on stderr) or bad arguments.
 */
import fs from 'node:fs';
import { ArgError, parseArgs } from './args';
import { createByteVocabulary, locateMismatch } from '../decoding/byte-vocabulary';
import { compileGrammar } from '../decoding/compile-grammar';
import { gbnfToGrammar } from '../decoding/compile-constraint';
import { isGatewayError } from '../errors/gateway-error';

const USAGE = 'usage: rein grammar check FILE.gbnf [--text S | --file F]\n';

export async function run(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseArgs(argv, { strings: ['text', 'file'] });
  } catch (error) {
    if (error instanceof ArgError) {
      process.stderr.write(`rein grammar: ${error.message}\n${USAGE}`);
      return 2;
    }
    throw error;
  }
  const [sub, grammarFile] = args.positional;
  if (sub !== 'check' || !grammarFile || args.positional.length > 2 || (args.values.text !== undefined && args.values.file !== undefined)) {
    process.stderr.write(USAGE);
    return 2;
  }
  let source: string;
  let text: string | undefined;
  try {
    source = fs.readFileSync(grammarFile, 'utf8');
    text = args.values.file !== undefined ? fs.readFileSync(args.values.file, 'utf8') : args.values.text;
  } catch (error) {
    process.stderr.write(`rein grammar: ${(error as Error).message}\n`);
    return 2;
  }
  const vocabulary = createByteVocabulary();
  let compiled;
  try {
    compiled = compileGrammar(gbnfToGrammar(source), vocabulary);
  } catch (error) {
    if (!isGatewayError(error)) throw error;
    const details = error.details ?? {};
    const where = typeof details.line === 'number' ? `${details.line}:${details.column}` : '1:1';
    process.stderr.write(`${grammarFile}:${where}: ${error.code}: ${error.message}\n`);
    return 2;
  }
  if (text === undefined) {
    process.stdout.write(`ok: ${grammarFile} compiles (${compiled.automaton?.ruleNames.length ?? 0} rules, ${compiled.automaton?.stateCount ?? 0} automaton states)\n`);
    return 0;
  }
  const session = compiled.start();
  const bytes = new TextEncoder().encode(text);
  for (let offset = 0; offset < bytes.length; offset++) {
    if (!session.advance(bytes[offset])) {
      const at = locateMismatch(text, offset);
      process.stdout.write(`no match: the text stops matching at ${at.line}:${at.column} (byte ${at.offset})\n`);
      return 1;
    }
  }
  if (!session.accepting) {
    process.stdout.write('no match: the text is an incomplete prefix of the grammar\n');
    return 1;
  }
  process.stdout.write('match\n');
  return 0;
}
