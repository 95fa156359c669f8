/**
 * compileConstraint: a request's `constraint` and `lexical` (SPEC.md §3) → a CompiledConstraint for
 * one vocabulary, through a compile cache keyed by content hash + vocabulary id (compile once, use
 * many times). Named files: `{type:'grammar', name}` → grammars/NAME.gbnf; `{type:'regex', pattern}`
 * is the pattern itself, and `constraints/NAME.regex` files are read by `loadNamedRegex`;
 * `{type:'json_schema'}` goes through the JSON Schema compiler in ./json-schema (loaded lazily; if it
 * is absent the answer is constraint_unsupported — never a wider constraint). `json_object` is the
 * shipped JSON grammar (any object).
 *
 * An include phrase that the constraint can never produce is a 422 when that is provable here
 * (choices and regexes); for grammars it shows at run time (SPEC.md §3).
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { GatewayError } from '../errors/gateway-error';
import { compileGrammar, compileUnconstrained, grammarFingerprint, type EngineConstraint } from './compile-grammar';
import type { ConstraintSpec, LexicalSpec } from './constraint';
import { resolveLimits, type ConstraintLimits } from './constraint-limits';
import { parseGbnf } from './engine/gbnf-parser';
import { normalizePhrase, PhraseAutomaton } from './engine/phrase-automaton';
import type { Grammar, GrammarExpr } from './grammar-ir';
import type { Vocabulary } from './vocabulary';

export interface CompileConstraintOptions {
  /** Folder of named grammars (default: ./grammars of the repository). */
  grammarsDir?: string;
  /** Folder of named schemas, regexes and lexical lists (default: ./constraints). */
  constraintsDir?: string;
  limits?: Partial<ConstraintLimits>;
  /** Entries kept in the compile cache (default 256). */
  cacheSize?: number;
}

const REPOSITORY_ROOT = path.resolve(__dirname, '..', '..', fs.existsSync(path.resolve(__dirname, '..', '..', 'grammars')) ? '' : '..');
export const DEFAULT_GRAMMARS_DIR = path.join(REPOSITORY_ROOT, 'grammars');
export const DEFAULT_CONSTRAINTS_DIR = path.join(REPOSITORY_ROOT, 'constraints');

const NAME_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

const cache = new Map<string, EngineConstraint>();

function remember(key: string, value: EngineConstraint, size: number): EngineConstraint {
  cache.delete(key);
  cache.set(key, value);
  while (cache.size > size) cache.delete(cache.keys().next().value as string);
  return value;
}

/** Drops every cached compiled constraint (tests, config reload). */
export function clearConstraintCache(): void {
  cache.clear();
}

function readNamed(dir: string, name: string, extension: string, param: string): string {
  if (!NAME_PATTERN.test(name) || name.includes('..')) {
    throw new GatewayError('invalid_request', `bad constraint name '${name}'`, { param });
  }
  const file = path.join(dir, name + extension);
  if (!fs.existsSync(file)) throw new GatewayError('not_found', `no ${extension} file named '${name}'`, { param });
  return fs.readFileSync(file, 'utf8');
}

/** The text of constraints/NAME.regex (trailing newline removed). */
export function loadNamedRegex(name: string, constraintsDir = DEFAULT_CONSTRAINTS_DIR): string {
  return readNamed(constraintsDir, name, '.regex', '/constraint/name').replace(/\r?\n$/, '');
}

/** Parses GBNF text with the given limits. */
export function gbnfToGrammar(source: string, limits?: Partial<ConstraintLimits>): Grammar {
  return parseGbnf(source, { limits: resolveLimits(limits) });
}

function choiceGrammar(choices: unknown, limits: ConstraintLimits): Grammar {
  if (!Array.isArray(choices) || choices.length === 0 || !choices.every((choice) => typeof choice === 'string')) {
    throw new GatewayError('invalid_request', 'choices must be a non-empty array of strings', { param: '/constraint/choices' });
  }
  if (choices.length > limits.maxChoices) {
    throw new GatewayError('constraint_invalid', `more than ${limits.maxChoices} choices`, { param: '/constraint/choices', details: { limit: 'maxChoices' } });
  }
  const total = (choices as string[]).reduce((sum, choice) => sum + choice.length, 0);
  if (total > limits.maxChoiceChars) {
    throw new GatewayError('constraint_invalid', `choices longer than ${limits.maxChoiceChars} characters in all`, {
      param: '/constraint/choices',
      details: { limit: 'maxChoiceChars' },
    });
  }
  const options: GrammarExpr[] = [...new Set(choices as string[])].map((text) => ({ type: 'literal', text }));
  return { start: 'root', rules: new Map([['root', { type: 'alt', options }]]) };
}

function regexGrammar(pattern: unknown): Grammar {
  if (typeof pattern !== 'string') throw new GatewayError('invalid_request', 'regex pattern must be a string', { param: '/constraint/pattern' });
  return { start: 'root', rules: new Map([['root', { type: 'regex', pattern }]]) };
}

interface JsonSchemaModule {
  compileJsonSchema: (schema: unknown, options?: Record<string, unknown>) => unknown;
}

function loadJsonSchemaCompiler(): JsonSchemaModule {
  const candidates = ['./json-schema/compile-json-schema', './json-schema'];
  for (const candidate of candidates) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const loaded = require(candidate) as Partial<JsonSchemaModule>;
      if (typeof loaded.compileJsonSchema === 'function') return loaded as JsonSchemaModule;
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code !== 'MODULE_NOT_FOUND') throw error;
    }
  }
  throw new GatewayError('constraint_unsupported', 'JSON Schema constraints are not available in this build', { param: '/constraint' });
}

function jsonSchemaGrammar(spec: Extract<ConstraintSpec, { type: 'json_schema' }>, options: CompileConstraintOptions, limits: ConstraintLimits): Grammar {
  let schema = spec.schema;
  if (schema === undefined && spec.ref !== undefined) {
    const text = readNamed(options.constraintsDir ?? DEFAULT_CONSTRAINTS_DIR, spec.ref, '.schema.json', '/constraint/ref');
    try {
      schema = JSON.parse(text) as unknown;
    } catch (error) {
      throw new GatewayError('constraint_invalid', `constraints/${spec.ref}.schema.json is not JSON: ${(error as Error).message}`, { param: '/constraint/ref' });
    }
  }
  if (schema === undefined) throw new GatewayError('invalid_request', 'json_schema needs a schema or a ref', { param: '/constraint' });
  const compiler = loadJsonSchemaCompiler();
  const result = compiler.compileJsonSchema(schema, { whitespace: spec.whitespace, limits }) as unknown;
  const grammar = (result as { grammar?: Grammar }).grammar ?? (result as Grammar);
  if (!grammar || typeof grammar.start !== 'string' || !(grammar.rules instanceof Map)) {
    throw new GatewayError('internal_error', 'the JSON Schema compiler returned no grammar');
  }
  return grammar;
}

/** The Grammar IR for a constraint spec (no vocabulary needed). */
export function constraintToGrammar(spec: ConstraintSpec, options: CompileConstraintOptions = {}): Grammar {
  const limits = resolveLimits(options.limits);
  switch (spec.type) {
    case 'grammar': {
      if (typeof spec.grammar === 'string') return parseGbnf(spec.grammar, { limits });
      if (typeof spec.name === 'string') return parseGbnf(readNamed(options.grammarsDir ?? DEFAULT_GRAMMARS_DIR, spec.name, '.gbnf', '/constraint/name'), { limits });
      throw new GatewayError('invalid_request', 'a grammar constraint needs `grammar` or `name`', { param: '/constraint' });
    }
    case 'json_object':
      return parseGbnf(readNamed(options.grammarsDir ?? DEFAULT_GRAMMARS_DIR, 'json', '.gbnf', '/constraint'), { limits });
    case 'regex':
      return regexGrammar(spec.pattern);
    case 'choice':
      return choiceGrammar(spec.choices, limits);
    case 'json_schema':
      return jsonSchemaGrammar(spec, options, limits);
    default:
      throw new GatewayError('constraint_unsupported', `unknown constraint type '${(spec as { type?: unknown }).type}'`, { param: '/constraint/type' });
  }
}

/** 422 when an include can provably never appear in a choice or regex constraint. */
function checkIncludesPossible(spec: ConstraintSpec, compiled: EngineConstraint, lexical: LexicalSpec | undefined, limits: ConstraintLimits): void {
  const includes = (lexical?.include ?? []).map(normalizePhrase);
  if (includes.length === 0 || (spec.type !== 'choice' && spec.type !== 'regex') || !compiled.automaton) return;
  const automaton = compiled.automaton;
  if (automaton.callRule.length > 0) return;
  includes.forEach((phrase, index) => {
    const include = new PhraseAutomaton([phrase], limits.maxDfaStates);
    // Breadth-first search over (constraint state, include state) pairs.
    const seen = new Set<number>();
    const start = automaton.ruleStart[automaton.rootRule];
    const queue: number[] = [start * include.stateCount + include.start];
    seen.add(queue[0]);
    let possible = false;
    for (let head = 0; head < queue.length && !possible; head++) {
      if (seen.size > 1_000_000) return; // too large to decide here: leave it to run time
      const pair = queue[head];
      const state = Math.floor(pair / include.stateCount);
      const includeState = pair % include.stateCount;
      if (include.accepting[includeState] || (automaton.accepting[state] && include.endAccepting[includeState])) {
        possible = true;
        break;
      }
      for (let byte = 0; byte < 256; byte++) {
        const target = automaton.next[state * 256 + byte];
        if (target < 0) continue;
        const next = target * include.stateCount + include.next[includeState * 256 + byte];
        if (!seen.has(next)) {
          seen.add(next);
          queue.push(next);
        }
      }
    }
    if (!possible) {
      throw new GatewayError('constraint_invalid', `lexical include '${phrase.phrase}' can never appear in output that matches the ${spec.type} constraint`, {
        param: `/lexical/include/${index}`,
      });
    }
  });
}

/** Compiles (or fetches from the cache) a constraint and lexical spec for a vocabulary. */
export function compileConstraint(
  spec: ConstraintSpec | undefined,
  lexical: LexicalSpec | undefined,
  vocabulary: Vocabulary,
  options: CompileConstraintOptions = {},
): EngineConstraint {
  const limits = resolveLimits(options.limits);
  const cacheSize = options.cacheSize ?? 256;
  const lexicalKey = JSON.stringify(lexical ?? null);
  if (!spec) {
    const key = 'sha256:' + createHash('sha256').update('none\0').update(lexicalKey).digest('hex') + '@' + vocabulary.id;
    return cache.get(key) ?? remember(key, compileUnconstrained(vocabulary, lexical, { limits, key }), cacheSize);
  }
  // Hash the source first (cheap) so repeated requests skip parsing entirely.
  const sourceKey =
    'sha256:' +
    createHash('sha256')
      .update(JSON.stringify(spec))
      .update('\0')
      .update(lexicalKey)
      .update('\0')
      .update(JSON.stringify(limits))
      .update('\0')
      .update(spec.type === 'grammar' && spec.name ? (options.grammarsDir ?? DEFAULT_GRAMMARS_DIR) : '')
      .digest('hex') +
    '@' +
    vocabulary.id;
  const named = (spec.type === 'grammar' && !spec.grammar && spec.name) || spec.type === 'json_object' || (spec.type === 'json_schema' && spec.ref);
  if (!named) {
    const hit = cache.get(sourceKey);
    if (hit) return remember(sourceKey, hit, cacheSize);
  }
  const grammar = constraintToGrammar(spec, options);
  // Named files may change on disk: key them by their content.
  const key = named
    ? 'sha256:' + createHash('sha256').update(grammarFingerprint(grammar)).update('\0').update(lexicalKey).update(JSON.stringify(limits)).digest('hex') + '@' + vocabulary.id
    : sourceKey;
  const hit = cache.get(key);
  if (hit) return remember(key, hit, cacheSize);
  // Schema grammars may legitimately have more rules than hand-written ones (the schema compiler bounds them itself).
  const grammarLimits = spec.type === 'json_schema' && !options.limits?.maxRules ? { ...limits, maxRules: Math.max(limits.maxRules, grammar.rules.size + 16) } : limits;
  const compiled = compileGrammar(grammar, vocabulary, { limits: grammarLimits, lexical, key });
  checkIncludesPossible(spec, compiled, lexical, limits);
  return remember(key, compiled, cacheSize);
}
