/**
 * ConstraintLimits: every bound the constraint compiler and engine enforce, in one typed object with
 * units and defaults (house rule 7, after llguidance's ParserLimits). Exceeding one is a
 * GatewayError('constraint_invalid') with the limit's name in `details.limit` — never a hang.
 */
export interface ConstraintLimits {
  /** Characters of grammar or regex source text. */
  maxSourceLength: number;
  /** Rules in one grammar. */
  maxRules: number;
  /** Nesting depth of groups/brackets in grammar or regex source (parser recursion). */
  maxNesting: number;
  /** Largest count in a bounded repetition `{m,n}`. */
  maxRepeat: number;
  /** NFA states after inlining and repeat expansion, whole grammar. */
  maxNfaStates: number;
  /** DFA states after determinization, whole grammar (the lexer automata). */
  maxDfaStates: number;
  /** Wall-clock milliseconds for one compilation. */
  maxCompileMs: number;
  /** Earley items in one chart set (ambiguity bound at run time). */
  maxItemsPerSet: number;
  /** Bytes a jump-forward may force at once. */
  maxForcedBytes: number;
  /** Choices in a choice constraint, and total characters over them. */
  maxChoices: number;
  maxChoiceChars: number;
  /** Lexical phrases (include + exclude) and the length of each. */
  maxLexicalPhrases: number;
  maxPhraseLength: number;
}

export const DEFAULT_CONSTRAINT_LIMITS: Readonly<ConstraintLimits> = Object.freeze({
  maxSourceLength: 200_000,
  maxRules: 2_000,
  maxNesting: 100,
  maxRepeat: 1_000,
  maxNfaStates: 200_000,
  maxDfaStates: 50_000,
  maxCompileMs: 10_000,
  maxItemsPerSet: 20_000,
  maxForcedBytes: 512,
  maxChoices: 10_000,
  maxChoiceChars: 200_000,
  maxLexicalPhrases: 256,
  maxPhraseLength: 256,
});

export function resolveLimits(overrides?: Partial<ConstraintLimits>): ConstraintLimits {
  return { ...DEFAULT_CONSTRAINT_LIMITS, ...(overrides ?? {}) };
}
