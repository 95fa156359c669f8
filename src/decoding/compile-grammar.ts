/**
 * compileGrammar: the one path from a Grammar IR (from GBNF, a regex, choices or the JSON Schema
 * compiler) plus optional lexical phrases to a CompiledConstraint bound to a vocabulary. Builds the
 * byte-level automaton (grammar-automaton.ts), binds it to the vocabulary's token trie, compiles the
 * lexical automata, and returns an object whose start() makes cheap per-sequence sessions. Token
 * classes are computed lazily and shared by every session of the compiled object.
 */
import { createHash } from 'node:crypto';
import { GatewayError } from '../errors/gateway-error';
import type { CompiledConstraint, ConstraintSession, LexicalSpec } from './constraint';
import { resolveLimits, type ConstraintLimits } from './constraint-limits';
import { CompiledLexical } from './engine/compiled-lexical';
import { ConstrainedSession } from './engine/constrained-session';
import { buildGrammarAutomaton, type GrammarAutomaton } from './engine/grammar-automaton';
import { CompiledGrammar } from './engine/grammar-matcher';
import { tokenTrieFor, type TokenTrie } from './engine/token-trie';
import type { Grammar, GrammarExpr } from './grammar-ir';
import type { Vocabulary } from './vocabulary';

export interface CompileGrammarOptions {
  limits?: Partial<ConstraintLimits>;
  lexical?: LexicalSpec;
  /** Cache key; by default a hash of the grammar, the lexical spec and the vocabulary id. */
  key?: string;
}

/** A compiled constraint with its parts visible to tools and tests (benchmarks, `rein grammar check`). */
export interface EngineConstraint extends CompiledConstraint {
  readonly automaton: GrammarAutomaton | null;
  readonly grammar: CompiledGrammar | null;
  readonly lexical: CompiledLexical | null;
  readonly vocabulary: Vocabulary;
  readonly limits: ConstraintLimits;
  start(options?: { maxTokens?: number }): ConstraintSession;
}

const textTokenCache = new WeakMap<Vocabulary, Uint32Array>();

function textTokens(vocabulary: Vocabulary): Uint32Array {
  let bits = textTokenCache.get(vocabulary);
  if (!bits) {
    bits = new Uint32Array((vocabulary.size + 31) >>> 5);
    for (let id = 0; id < vocabulary.size; id++) {
      const bytes = vocabulary.tokenBytes(id);
      if (bytes && bytes.length > 0) bits[id >>> 5] |= 1 << (id & 31);
    }
    textTokenCache.set(vocabulary, bits);
  }
  return bits;
}

function exprToJson(expr: GrammarExpr): unknown {
  return expr;
}

/** Stable text form of a grammar (rules sorted by name) for hashing. */
export function grammarFingerprint(grammar: Grammar): string {
  const rules = [...grammar.rules.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify({ start: grammar.start, rules: rules.map(([name, expr]) => [name, exprToJson(expr)]) });
}

/**
 * Grammars bound to a vocabulary, shared by every constraint over the same grammar (with or without
 * lexical phrases, named or inline): their lazily computed token classes are the expensive, warm part.
 */
const boundGrammars = new Map<string, CompiledGrammar>();
const BOUND_GRAMMAR_CACHE_SIZE = 64;

function bindGrammar(grammarKey: string | null, automaton: GrammarAutomaton, trie: TokenTrie, limits: ConstraintLimits): CompiledGrammar {
  if (grammarKey) {
    const hit = boundGrammars.get(grammarKey);
    if (hit) {
      boundGrammars.delete(grammarKey);
      boundGrammars.set(grammarKey, hit);
      return hit;
    }
  }
  const bound = new CompiledGrammar(automaton, trie, limits.maxItemsPerSet);
  if (grammarKey) {
    boundGrammars.set(grammarKey, bound);
    while (boundGrammars.size > BOUND_GRAMMAR_CACHE_SIZE) boundGrammars.delete(boundGrammars.keys().next().value as string);
  }
  return bound;
}

function makeConstraint(
  key: string,
  automaton: GrammarAutomaton | null,
  vocabulary: Vocabulary,
  lexicalSpec: LexicalSpec | undefined,
  limits: ConstraintLimits,
  grammarKey: string | null = null,
): EngineConstraint {
  const trie: TokenTrie = tokenTrieFor(vocabulary);
  const grammar = automaton ? bindGrammar(grammarKey, automaton, trie, limits) : null;
  const hasLexical = !!lexicalSpec && ((lexicalSpec.include?.length ?? 0) > 0 || (lexicalSpec.exclude?.length ?? 0) > 0);
  const lexical = hasLexical ? new CompiledLexical(lexicalSpec!, vocabulary, trie, limits) : null;
  const text = textTokens(vocabulary);
  return {
    key,
    automaton,
    grammar,
    lexical,
    vocabulary,
    limits,
    start(options?: { maxTokens?: number }): ConstraintSession {
      return new ConstrainedSession({
        vocabulary,
        trie,
        textTokens: text,
        matcher: grammar ? grammar.matcher() : null,
        lexical,
        maxTokens: options?.maxTokens,
        maxForcedBytes: limits.maxForcedBytes,
      });
    },
  };
}

/** Compiles a Grammar IR (and optional lexical phrases) for one vocabulary. */
export function compileGrammar(grammar: Grammar, vocabulary: Vocabulary, options: CompileGrammarOptions = {}): EngineConstraint {
  const limits = resolveLimits(options.limits);
  const fingerprint = grammarFingerprint(grammar);
  const grammarKey = 'sha256:' + createHash('sha256').update(fingerprint).update('\0').update(JSON.stringify(limits)).digest('hex') + '@' + vocabulary.id;
  const cached = boundGrammars.get(grammarKey);
  const automaton = cached ? cached.automaton : buildGrammarAutomaton(grammar, { limits, deadline: Date.now() + limits.maxCompileMs });
  const key =
    options.key ??
    'sha256:' +
      createHash('sha256')
        .update(fingerprint)
        .update('\0')
        .update(JSON.stringify(options.lexical ?? null))
        .digest('hex') +
      '@' +
      vocabulary.id;
  return makeConstraint(key, automaton, vocabulary, options.lexical, limits, vocabulary.id ? grammarKey : null);
}

/** Lexical phrases alone (any text otherwise), or no constraint at all when lexical is empty too. */
export function compileUnconstrained(vocabulary: Vocabulary, lexical: LexicalSpec | undefined, options: { limits?: Partial<ConstraintLimits>; key?: string } = {}): EngineConstraint {
  const limits = resolveLimits(options.limits);
  const key =
    options.key ?? 'sha256:' + createHash('sha256').update('lexical\0').update(JSON.stringify(lexical ?? null)).digest('hex') + '@' + vocabulary.id;
  return makeConstraint(key, null, vocabulary, lexical, limits);
}

export function assertGrammarShape(value: unknown): asserts value is Grammar {
  if (typeof value !== 'object' || value === null || typeof (value as Grammar).start !== 'string' || !((value as Grammar).rules instanceof Map)) {
    throw new GatewayError('internal_error', 'not a Grammar IR object');
  }
}
