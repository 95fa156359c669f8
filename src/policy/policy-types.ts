/**
 * Policy types: the document an author writes (SPEC.md §5) and the resolved, validated, frozen
 * Policy the engine runs — `extends` applied, defaults filled in, each check entry's parameters split
 * from its common fields, and the revision (`sha256:` of the canonical JSON of the resolved document).
 */
import type { Action } from '../safety/finding';

export type InputRole = 'prompt' | 'system' | 'user' | 'assistant' | 'tool' | 'context';
export type AuditKeep = 'full' | 'redacted' | 'hashes';

/** Fields of a check entry that belong to the policy, not to the check's own parameters. */
export const ENTRY_FIELDS = ['check', 'id', 'threshold', 'action', 'enforcement', 'fail_mode', 'applies_to', 'timeout_ms', 'description'] as const;

export const DEFAULT_APPLIES_TO: readonly InputRole[] = ['prompt', 'user', 'context'];
export const DEFAULT_TIMEOUT_MS = 2000;
export const DEFAULT_REFUSAL = "Sorry, I can't help with that.";

export interface CheckEntry {
  check: string;
  id?: string;
  threshold?: number;
  action: Action;
  enforcement: 'enforce' | 'shadow';
  fail_mode: 'closed' | 'open';
  applies_to?: InputRole[];
  timeout_ms?: number;
  /** The entry's check-specific parameters (everything but ENTRY_FIELDS), validated against the check's schema. */
  params: Record<string, unknown>;
  /** JSON pointer of the entry in the resolved policy, e.g. `/input/2`. */
  pointer: string;
}

export interface GenerationSettings {
  max_tokens?: number;
  temperature?: number;
  constraint?: Record<string, unknown>;
  lexical?: { include?: unknown[]; exclude?: unknown[] };
}

export interface Policy {
  readonly name: string;
  readonly description?: string;
  readonly refusal: string;
  readonly generation: GenerationSettings;
  readonly input: readonly CheckEntry[];
  readonly output: readonly CheckEntry[];
  readonly audit: { keep: AuditKeep };
  /** `sha256:` + hex of the canonical JSON of the resolved document. */
  readonly revision: string;
  /** The resolved document (extends applied, defaults filled), as hashed. */
  readonly document: Readonly<Record<string, unknown>>;
  /** Names of the policies this one extends, nearest first. */
  readonly ancestry: readonly string[];
}

export interface PolicyValidationError {
  /** JSON pointer into the policy document. */
  pointer: string;
  /** 1-based line in the YAML/JSON source, when known. */
  line?: number;
  message: string;
  /** Which file the error is in, when it is not the one being validated (a parent). */
  file?: string;
}
