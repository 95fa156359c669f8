/**
 * JSON Schema constraints: the schema → Grammar IR compiler and its entry point for the engine.
 * `jsonSchemaToGrammar` is pure (testable without a vocabulary); `compileJsonSchema` hands the grammar
 * to the engine's grammar compiler for a given vocabulary.
 */
export { jsonSchemaToGrammar, type JsonSchemaGrammarOptions } from './json-schema-to-grammar';
export { DEFAULT_JSON_SCHEMA_LIMITS, type JsonSchemaLimits } from './json-schema-limits';
export { GrammarMatcher } from './grammar-matcher';
export type { WhitespaceMode } from './json-text';
