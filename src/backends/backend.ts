/**
 * Backend: where tokens come from — the in-process ONNX model or a remote OpenAI-compatible server.
 * The pipeline hands it a fully resolved request (seed drawn, constraint compiled) and reads events.
 */
import type { CompiledConstraint, ConstraintKind, ConstraintSpec, LexicalSpec } from '../decoding/constraint';
import type { Vocabulary } from '../decoding/vocabulary';

export type ChatRole = 'system' | 'user' | 'assistant' | 'tool';
export interface ChatMessage {
  role: ChatRole;
  content: string;
  name?: string;
}

export interface SamplingOptions {
  maxTokens: number;
  /** 0 = greedy. */
  temperature: number;
  topP: number;
  /** 0 = off. */
  topK: number;
  minP: number;
  repetitionPenalty: number;
  /** Sample i of n uses seed + i. */
  seed: number;
  stop: string[];
}

export interface BackendRequest extends SamplingOptions {
  model: string;
  /** Exactly one of prompt (raw completion) and messages (chat template applied by the backend). */
  prompt?: string;
  messages?: ChatMessage[];
  n: number;
  /** Compiled against this backend's vocabulary; the backend starts one session per sequence. */
  constraint?: CompiledConstraint;
  /** For remote backends that enforce constraints natively: the original spec. */
  constraintSpec?: ConstraintSpec;
  lexical?: LexicalSpec;
  stream: boolean;
}

export type FinishReason = 'stop' | 'length' | 'content_filter';

export type BackendEvent =
  | { type: 'prompt-tokens'; count: number }
  | { type: 'token-delta'; choice: number; text: string; tokenIds: number[]; forced?: boolean }
  | { type: 'choice-end'; choice: number; finishReason: FinishReason; completionTokens: number; constraintComplete?: boolean };

export interface BackendCapabilities {
  /** The backend applies Rein's token masks itself (embedded model). */
  tokenMask: boolean;
  streaming: boolean;
  /** Constraint kinds a remote server enforces natively. */
  nativeConstraints: ConstraintKind[];
}

export interface ModelInfo {
  id: string;
  contextLength: number;
  ownedBy: string;
}

export interface Backend {
  readonly id: string;
  readonly capabilities: BackendCapabilities;
  /** Models this backend serves. */
  models(): ModelInfo[];
  /** Present when the backend takes token masks (the constraint compiler needs it). */
  vocabulary?(model: string): Vocabulary;
  /** Token count of a request's prompt (after the chat template), for context-length checks. */
  countPromptTokens?(request: Pick<BackendRequest, 'model' | 'prompt' | 'messages'>): number;
  generate(request: BackendRequest, signal: AbortSignal): AsyncIterable<BackendEvent>;
  ready(): Promise<{ ok: boolean; detail?: string }>;
  close(): Promise<void>;
}
