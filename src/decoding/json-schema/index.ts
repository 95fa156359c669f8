/**
 * JSON Schema constraints: the schema → Grammar IR compiler and its entry point for the engine.
 * `jsonSchemaToGrammar` is pure (testable without a vocabulary); `compileJsonSchema` hands the grammar
 * to the engine's grammar compiler for a given vocabulary.
 *
 * `compileJsonSchema(schema, options)` without a vocabulary returns the Grammar IR: that is the form the
 * engine's compileConstraint (src/decoding/compile-constraint.ts) calls, passing its own
 * ConstraintLimits, whose `maxRepeat`/`maxRules` are honoured here too.
 */
import { GatewayError } from '../../errors/gateway-error';
import type { CompiledConstraint } from '../constraint';
import type { Grammar } from '../grammar-ir';
import type { Vocabulary } from '../vocabulary';
import { DEFAULT_JSON_SCHEMA_LIMITS, type JsonSchemaLimits } from './json-schema-limits';
import { jsonSchemaToGrammar } from './json-schema-to-grammar';
import type { WhitespaceMode } from './json-text';

export { jsonSchemaToGrammar, type JsonSchemaGrammarOptions } from './json-schema-to-grammar';
export { DEFAULT_JSON_SCHEMA_LIMITS, type JsonSchemaLimits } from './json-schema-limits';
export { GrammarMatcher } from './grammar-matcher';
export type { WhitespaceMode } from './json-text';

export interface CompileJsonSchemaOptions {
  whitespace?: WhitespaceMode;
  /** Schema-compiler limits, and/or the engine's ConstraintLimits (maxRepeat, maxRules, … are shared names). */
  limits?: Partial<JsonSchemaLimits> & Record<string, unknown>;
}

function isVocabulary(value: unknown): value is Vocabulary {
  return typeof value === 'object' && value !== null && typeof (value as Vocabulary).tokenBytes === 'function' && typeof (value as Vocabulary).size === 'number';
}

function schemaLimits(limits: CompileJsonSchemaOptions['limits']): Partial<JsonSchemaLimits> {
  if (!limits) return {};
  const result: Partial<JsonSchemaLimits> = {};
  for (const key of Object.keys(DEFAULT_JSON_SCHEMA_LIMITS) as Array<keyof JsonSchemaLimits>) {
    // the engine's maxRules counts the finished grammar; the schema compiler's counts rules before inlining
    if (key === 'maxRules' && limits.maxNfaStates !== undefined) continue;
    const value = limits[key];
    if (typeof value === 'number') result[key] = value;
  }
  return result;
}

interface EngineModule {
  compileGrammar(grammar: Grammar, vocabulary: Vocabulary, options?: { limits?: Record<string, unknown>; key?: string }): CompiledConstraint;
  DEFAULT_CONSTRAINT_LIMITS?: Record<string, unknown>;
}

function loadEngine(): EngineModule {
  try {
    // Loaded lazily: the engine imports this folder's index (for json_schema), so a static import would be circular.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('../compile-grammar') as EngineModule;
  } catch (error) {
    throw new GatewayError('constraint_unsupported', 'the constraint engine is not available in this build', { cause: error });
  }
}

/** Grammar IR for the schema (the form compileConstraint uses). */
export function compileJsonSchema(schema: unknown, options?: CompileJsonSchemaOptions): Grammar;
/** A CompiledConstraint for the schema on a vocabulary. */
export function compileJsonSchema(schema: unknown, vocabulary: Vocabulary, options?: CompileJsonSchemaOptions): CompiledConstraint;
export function compileJsonSchema(
  schema: unknown,
  vocabularyOrOptions?: Vocabulary | CompileJsonSchemaOptions,
  maybeOptions?: CompileJsonSchemaOptions,
): Grammar | CompiledConstraint {
  if (!isVocabulary(vocabularyOrOptions)) {
    const options = vocabularyOrOptions ?? {};
    return jsonSchemaToGrammar(schema, { whitespace: options.whitespace, limits: schemaLimits(options.limits) });
  }
  const options = maybeOptions ?? {};
  const engine = loadEngine();
  let engineMaxRepeat: number | undefined;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const limitsModule = require('../constraint-limits') as { DEFAULT_CONSTRAINT_LIMITS?: { maxRepeat?: number } };
    engineMaxRepeat = limitsModule.DEFAULT_CONSTRAINT_LIMITS?.maxRepeat;
  } catch {
    engineMaxRepeat = undefined;
  }
  const limits = { ...(engineMaxRepeat !== undefined ? { maxRepeat: engineMaxRepeat } : {}), ...schemaLimits(options.limits) };
  const grammar = jsonSchemaToGrammar(schema, { whitespace: options.whitespace, limits });
  const engineLimits: Record<string, unknown> = { ...(options.limits ?? {}) };
  // A schema grammar may legitimately have more rules than a hand-written one.
  if (engineLimits.maxRules === undefined) engineLimits.maxRules = Math.max(grammar.rules.size + 16, 2_000);
  return engine.compileGrammar(grammar, vocabularyOrOptions, { limits: engineLimits });
}
