/**
 * What the pipeline needs from the rest of the gateway, as small interfaces. The server wires real
 * implementations (policy store and check engine, constraint engine, backends, audit store); the
 * adapters that bind them live in src/pipeline/adapters/.
 */
import type { Backend, ChatRole, ModelInfo } from '../backends/backend';
import type { CompiledConstraint, ConstraintSpec, LexicalSpec } from '../decoding/constraint';
import type { Vocabulary } from '../decoding/vocabulary';
import type { Finding } from '../safety/finding';
import type { Logger } from '../logging/logger';
import type { Metrics } from '../metrics/metrics';
import type { ReinConfig } from '../config/config';
import type { Principal } from '../access/api-keys';
import type { AuditEventFields } from '../audit/audit-event';

export type AuditLevel = 'full' | 'redacted' | 'hashes';

export interface ResolvedPolicyView {
  name: string;
  revision: string;
  refusal: string;
  generation: { maxTokens?: number; constraint?: ConstraintSpec; temperature?: number };
  auditLevel: AuditLevel;
  /** Output checks that need the whole output (self-consistency…): streaming is buffered. */
  needsFullOutput: boolean;
  /** Sampling settings of a self_consistency entry, when the policy has one. */
  selfConsistency?: { samples: number; temperature: number };
  /** The raw resolved policy, for the audit and the adapters. */
  raw: unknown;
}

export interface InputPart {
  /** `prompt`, `messages/2`, `context/0`. */
  source: string;
  role: ChatRole | 'context' | 'prompt';
  text: string;
}

export interface InputCheckResult {
  findings: Finding[];
  /** Replacement texts by source, for sanitize/redact decisions. */
  sanitized: Map<string, string>;
}

export interface OutputCheckRequest {
  output: string;
  choice: number;
  input?: string;
  samples?: string[];
  sources?: string[];
  drawSamples?(count: number, temperature: number): Promise<string[]>;
  /** Request-level overrides (`checks` in the body). */
  requested?: { selfConsistency?: { samples?: number; temperature?: number; variant?: string; mode?: string }; grounding?: boolean };
}

export interface OutputCheckResult {
  findings: Finding[];
  sanitizedOutput?: string;
  consistency?: { score: number; sentences: Array<{ text: string; score: number }> };
}

export interface StreamFilter {
  /** Text that is safe to emit now. */
  push(delta: string): string;
  /**
   * Once the output is complete: `text` is what is still to emit, `emitted` everything the client gets,
   * `findings` the output findings of the whole output (the filter runs the policy's output checks), and
   * `refusal` the message to send instead of the rest when the output is blocked.
   */
  end(): Promise<{ text: string; emitted: string; findings: Finding[]; refusal?: string }>;
}

export interface PolicyRuntime {
  resolve(name: string): ResolvedPolicyView;
  defaultPolicy: string;
  runInput(policy: ResolvedPolicyView, parts: InputPart[], signal: AbortSignal): Promise<InputCheckResult>;
  runOutput(policy: ResolvedPolicyView, request: OutputCheckRequest, signal: AbortSignal): Promise<OutputCheckResult>;
  /** A filter that holds back enough text that nothing blocked or redacted leaves; undefined = none needed. */
  createStreamFilter?(policy: ResolvedPolicyView, choice: number): StreamFilter | undefined;
  health(): { ok: boolean; detail?: string };
}

export interface ConstraintCompiler {
  compile(spec: ConstraintSpec | undefined, lexical: LexicalSpec | undefined, vocabulary: Vocabulary): CompiledConstraint;
  /** Validates a complete output against the constraint with an independent checker (ajv for JSON). */
  validateOutput?(spec: ConstraintSpec, text: string): { ok: boolean; error?: string };
}

export interface AuditSink {
  /** Resolves once the record is committed (sync mode); returns the record id. */
  record(event: AuditEventFields, level: AuditLevel): Promise<string | undefined>;
  health(): Promise<{ ok: boolean; detail?: string }>;
}

export interface BackendRouter {
  /** The backend serving `model` (undefined = default); throws not_found for an unknown model. */
  resolve(model: string | undefined): { backend: Backend; model: ModelInfo };
  models(): Array<ModelInfo & { backend: string }>;
}

export interface PipelineDeps {
  config: ReinConfig;
  backends: BackendRouter;
  policies: PolicyRuntime;
  constraints?: ConstraintCompiler;
  audit?: AuditSink;
  logger: Logger;
  metrics: Metrics;
  /** Charges the tokens a finished request used against its key's token rate limit. */
  chargeTokens?(principal: Principal, tokens: number): Promise<void>;
}
