/**
 * Limits for compiling a JSON Schema into a grammar: one typed object with documented defaults.
 * Exceeding one is a `constraint_unsupported` error naming the limit (keyword `limits`), never a hang.
 */
export interface JsonSchemaLimits {
  /** Subschema objects walked in the document. */
  maxSchemaNodes: number;
  /** Nesting depth of the document. */
  maxSchemaDepth: number;
  /** Grammar rules produced (recursion and allOf merging make rules; this bounds the blow-up). */
  maxRules: number;
  /** Largest bounded repetition (maxLength, maxItems, `{n,m}` in patterns) written into the grammar. */
  maxRepeat: number;
  /** Values in one enum. */
  maxEnumValues: number;
  /** Alternatives produced by distributing anyOf/oneOf over their siblings. */
  maxAlternatives: number;
  /** Upper bound on (property × count) states for min/maxProperties. */
  maxPropertyStates: number;
  /** Spaces/newlines allowed between two tokens in `flexible` whitespace mode. */
  maxFlexibleWhitespace: number;
}

export const DEFAULT_JSON_SCHEMA_LIMITS: Readonly<JsonSchemaLimits> = Object.freeze({
  maxSchemaNodes: 50_000,
  maxSchemaDepth: 200,
  maxRules: 20_000,
  maxRepeat: 1_000,
  maxEnumValues: 5_000,
  maxAlternatives: 1_000,
  maxPropertyStates: 5_000,
  maxFlexibleWhitespace: 8,
});
