/**
 * Grammar IR: the one grammar form every front end compiles to (GBNF, regex, choices, JSON Schema)
 * and the engine consumes. A context-free grammar over Unicode text whose leaves may be literals,
 * character classes or whole regular expressions (our own regex syntax; lexemes for the engine).
 */
export type GrammarExpr =
  | { type: 'seq'; items: GrammarExpr[] }
  | { type: 'alt'; options: GrammarExpr[] }
  | { type: 'ref'; name: string }
  | { type: 'literal'; text: string }
  /** Code point ranges, inclusive; negated = any code point not in them. */
  | { type: 'char-class'; ranges: Array<[number, number]>; negated: boolean }
  /** max null = unbounded. */
  | { type: 'repeat'; item: GrammarExpr; min: number; max: number | null }
  /** A regular expression (JS syntax, no backreferences/lookaround) matching one whole piece of text. */
  | { type: 'regex'; pattern: string };

export interface Grammar {
  readonly start: string;
  readonly rules: ReadonlyMap<string, GrammarExpr>;
}
