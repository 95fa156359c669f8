/**
 * `rein schema check FILE.json [--text S | --file F]` (SPEC.md §2): compiles a JSON Schema into the
 * grammar the gateway would enforce. Without a text: exit 0 when it compiles. With a text: exit 0 =
 * the text is a complete match (compact JSON, or Python's json.dumps layout), 1 = no match.
 * Exit 2: the schema is not JSON, is invalid, or uses a keyword that cannot be enforced — the message
 * names the keyword and its JSON pointer.
 */
import fs from 'node:fs';
import { ArgError, parseArgs } from './args';
import { isGatewayError } from '../errors/gateway-error';
import { GrammarMatcher, jsonSchemaToGrammar } from '../decoding/json-schema';
import { parseJson } from '../util/parse-json';

const USAGE = 'usage: rein schema check FILE.json [--text S | --file F] [--whitespace compact|python|flexible]\n';

export async function run(argv: string[]): Promise<number> {
  const [subcommand, ...rest] = argv;
  if (subcommand !== 'check') {
    process.stderr.write(USAGE);
    return 2;
  }
  let args;
  try {
    args = parseArgs(rest, { strings: ['text', 'file', 'whitespace'] });
  } catch (error) {
    process.stderr.write(`rein schema: ${(error as ArgError).message}\n${USAGE}`);
    return 2;
  }
  const [schemaFile] = args.positional;
  if (!schemaFile || args.positional.length > 1 || (args.values.text !== undefined && args.values.file !== undefined)) {
    process.stderr.write(USAGE);
    return 2;
  }
  const whitespace = args.values.whitespace;
  if (whitespace !== undefined && whitespace !== 'compact' && whitespace !== 'python' && whitespace !== 'flexible') {
    process.stderr.write(`rein schema: --whitespace must be compact, python or flexible\n`);
    return 2;
  }
  let schemaText: string;
  try {
    schemaText = fs.readFileSync(schemaFile, 'utf8');
  } catch (error) {
    process.stderr.write(`rein schema: cannot read ${schemaFile}: ${(error as Error).message}\n`);
    return 2;
  }
  const parsed = parseJson(schemaText);
  if (!parsed.ok) {
    process.stderr.write(`rein schema: ${schemaFile} is not JSON: ${parsed.error}\n`);
    return 2;
  }
  let text: string | undefined = args.values.text;
  if (args.values.file !== undefined) {
    try {
      text = fs.readFileSync(args.values.file, 'utf8');
    } catch (error) {
      process.stderr.write(`rein schema: cannot read ${args.values.file}: ${(error as Error).message}\n`);
      return 2;
    }
  }
  try {
    const modes: Array<'compact' | 'python' | 'flexible'> = whitespace ? [whitespace] : ['compact', 'python'];
    const grammars = modes.map((mode) => jsonSchemaToGrammar(parsed.value, { whitespace: mode }));
    if (text === undefined) {
      process.stdout.write(`ok: ${schemaFile} compiles (${grammars[0].rules.size} grammar rules)\n`);
      return 0;
    }
    const candidate = text;
    const matched = grammars.some((grammar) => GrammarMatcher.forGrammar(grammar).matches(candidate));
    process.stdout.write(matched ? 'match\n' : 'no match\n');
    return matched ? 0 : 1;
  } catch (error) {
    if (isGatewayError(error)) {
      const keyword = error.details?.keyword;
      const pointer = error.details?.pointer;
      process.stderr.write(`rein schema: ${error.code}: ${error.message}${keyword !== undefined ? ` [keyword ${String(keyword)} at ${pointer === '' ? '#' : `#${String(pointer)}`}]` : ''}\n`);
      return 2;
    }
    throw error;
  }
}
