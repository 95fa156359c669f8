/**
 * The constraint interfaces: a compiled constraint (grammar, regex, choice, JSON Schema, lexical, or
 * a combination) and the per-sequence session that masks logits at every step.
 *
 * Hazard: a session's failure is sticky — once advance() returned false the session stays failed and
 * mask() allows nothing, so a bug can never widen the constraint.
 */
import type { TokenMask } from './token-mask';

export type ConstraintKind = 'json_schema' | 'json_object' | 'regex' | 'choice' | 'grammar' | 'lexical';

/** A constraint as it arrives in a request (SPEC.md §3 `constraint`). */
export type ConstraintSpec =
  | { type: 'json_schema'; schema?: unknown; ref?: string; whitespace?: 'compact' | 'python' | 'flexible' }
  | { type: 'json_object' }
  | { type: 'regex'; pattern: string }
  | { type: 'choice'; choices: string[] }
  | { type: 'grammar'; grammar?: string; name?: string };

export type LexicalPhrase = string | { phrase: string; ignore_case?: boolean; whole_word?: boolean };
export interface LexicalSpec {
  include?: LexicalPhrase[];
  exclude?: LexicalPhrase[];
}

export interface CompiledConstraint {
  /** Content hash + tokenizer id: identical constraints share one compiled object. */
  readonly key: string;
  start(options?: { maxTokens?: number }): ConstraintSession;
}

export interface ConstraintSession {
  /** Writes the allowed next tokens into `into` (EOS included exactly when the constraint accepts). */
  mask(into: TokenMask): void;
  /** Commits a token; false = rejected, and the session is then failed for good. */
  advance(token: number): boolean;
  /** Tokens the constraint forces next (jump-forward); may be empty. */
  forced(): number[];
  /** The text so far is a complete match. */
  readonly accepting: boolean;
  /** Nothing but EOS can follow (generation should stop). */
  readonly finished: boolean;
  readonly failed: boolean;
}
