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
  /**
   * Span-level replacements ([start, end) in the checked text) for sanitize/redact. The policy engine
   * merges those of all firing checks (overlaps merged, applied right to left). Prefer this over
   * `sanitized` where the check can say what it replaces.
   */
  replacements?: Array<{ start: number; end: number; text: string }>;
}

/** Optional members a Detector or OutputCheck may declare (additive; all have defaults). */
export interface CheckDescription {
  /** JSON Schema of the check's policy parameters (the entry minus check/threshold/action/…). */
  readonly paramsSchema?: Record<string, unknown>;
  /** `at_or_above` (default): fires when score >= threshold; `below`: fires when score < threshold. */
  readonly firesWhen?: 'at_or_above' | 'below';
  /** Threshold used when the policy entry gives none (default 0.5). */
  readonly defaultThreshold?: number;
}

export interface Detector extends CheckDescription {
  readonly id: string;
  readonly version: string;
  /** A detector may return several results (one per sub-check); the highest score decides. */
  detect(text: string, context: DetectorContext): Promise<DetectorResult[]>;
  /**
   * Optional: the same results as `detect`, computed synchronously, or undefined when they cannot be
   * right now (a model still loading). The engine uses it to run a batch of quick checks without a
   * promise, timer and race per check; it must never block for long (no I/O, no large texts — the
   * engine sends those to `detect`, and to worker threads).
   */
  detectSync?(text: string, context: DetectorContext): DetectorResult[] | undefined;
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

export interface OutputCheck extends CheckDescription {
  readonly id: string;
  readonly version: string;
  /** `stream`: may run on partial output with a hold-back window; `final`: needs the whole output. */
  readonly mode: 'stream' | 'final';
  check(output: string, context: OutputCheckContext): Promise<DetectorResult[]>;
  /** Optional synchronous twin of `check` (see Detector.detectSync); never for checks that draw samples. */
  checkSync?(output: string, context: OutputCheckContext): DetectorResult[] | undefined;
}

export type { Finding };
