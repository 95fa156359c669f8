/**
 * Detector (input side) and OutputCheck (output side): the two plug-in interfaces of the safety layer.
 * Each returns one Finding; the pipeline attaches the policy's action, threshold and enforcement,
 * runs them in parallel with per-check timeouts, and applies the policy's fail_mode to errors.
 */
import type { Finding } from './finding';
import type { ChatRole } from '../backends/backend';

export interface DetectorContext {
  /** Which part of the input the text is: a user message, a tool result, a context document. */
  role: ChatRole | 'context' | 'prompt';
  /** Parameters from the policy entry (threshold excluded), validated against the check's schema. */
  params: Record<string, unknown>;
  signal: AbortSignal;
}

/** A detector's raw result, before the policy turns it into a Finding. */
export interface DetectorResult {
  score: number;
  explanation: string;
  spans?: Array<[number, number]>;
  /** Replacement text when the check can sanitize/redact. */
  sanitized?: string;
  details?: Record<string, unknown>;
  /** Sub-check id suffix, e.g. `email` for `pii.email`. */
  subCheck?: string;
}

export interface Detector {
  readonly id: string;
  readonly version: string;
  /** A detector may return several results (one per sub-check); the highest score decides. */
  detect(text: string, context: DetectorContext): Promise<DetectorResult[]>;
}

export interface OutputCheckContext extends DetectorContext {
  input?: string;
  /** Samples supplied by the caller (`/v1/check`) or already drawn. */
  samples?: string[];
  /** Grounding sources (`context` documents). */
  sources?: string[];
  /** Draws extra samples for the same request from the backend (absent on `/v1/check`). Throws on failure. */
  drawSamples?(count: number, temperature: number): Promise<string[]>;
}

export interface OutputCheck {
  readonly id: string;
  readonly version: string;
  /** `stream`: may run on partial output with a hold-back window; `final`: needs the whole output. */
  readonly mode: 'stream' | 'final';
  check(output: string, context: OutputCheckContext): Promise<DetectorResult[]>;
}

export type { Finding };
