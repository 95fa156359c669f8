/**
 * `rein eval detectors` engine (SPEC.md §6): runs detectors over labelled JSONL examples (`{"text", "label": 1|0}`,
 * optional `"role"`: prompt | user | tool | context), pooled across files, and reports per detector the ROC AUC,
 * TPR at FPR ≤ 1% and 5% (over the pooled data; no internal split), latency p50/p99, plus — beside the SPEC keys —
 * the operating point at score ≥ 0.5 with Wilson 95% intervals. The optional policy block is the default policy's
 * decision (block counts as caught) through the policy engine.
 */
import fs from 'node:fs';
import type { Detector, DetectorContext } from '../detector';
import { GatewayError } from '../../errors/gateway-error';
import { parseJson } from '../../util/parse-json';
import { operatingPoint, percentile, rocAuc, tprAtFpr, wilsonInterval, type LabeledScore } from './metrics';

export type ExampleRole = DetectorContext['role'];

export interface LabeledExample {
  text: string;
  label: 0 | 1;
  role: ExampleRole;
  /** File it came from (for per-file breakdowns). */
  source: string;
}

export interface DetectorReport {
  auc: number;
  tpr_at_fpr: Record<string, number>;
  latency_ms: { p50: number; p99: number };
  /** Beside the SPEC keys: the operating point of threshold 0.5, with Wilson 95% intervals. */
  at_threshold_0_5: { tpr: number; tpr_ci: [number, number]; fpr: number; fpr_ci: [number, number]; true_positives: number; false_positives: number };
  errors: number;
}

export interface DetectorEvalReport {
  n_pos: number;
  n_neg: number;
  detectors: Record<string, DetectorReport>;
  policy?: { name: string; tpr: number; fpr: number };
  note?: string;
}

export const MAX_EXAMPLE_CHARS = 200000;

/** Reads a JSONL file of examples; a bad line is an error naming the file and line. */
export function readExamples(file: string, defaultRole: ExampleRole = 'prompt'): LabeledExample[] {
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  const examples: LabeledExample[] = [];
  lines.forEach((line, index) => {
    if (!line.trim()) return;
    const parsed = parseJson<{ text?: unknown; label?: unknown; role?: unknown }>(line);
    if (!parsed.ok || typeof parsed.value !== 'object' || parsed.value === null) {
      throw new GatewayError('invalid_request', `${file}:${index + 1}: not a JSON object`);
    }
    const { text, label, role } = parsed.value;
    if (typeof text !== 'string' || (label !== 0 && label !== 1)) {
      throw new GatewayError('invalid_request', `${file}:${index + 1}: needs "text" (string) and "label" (0 or 1)`);
    }
    const exampleRole = typeof role === 'string' && ['prompt', 'user', 'system', 'tool', 'context', 'assistant'].includes(role) ? (role as ExampleRole) : defaultRole;
    examples.push({ text: text.slice(0, MAX_EXAMPLE_CHARS), label, role: exampleRole, source: file });
  });
  return examples;
}

export interface EvaluateOptions {
  /** Called every `progressEvery` examples with (done, total, detector id). */
  onProgress?: (done: number, total: number, detectorId: string) => void;
  progressEvery?: number;
  /** Runs the default policy on each example and returns true when it blocks. */
  policyDecision?: { name: string; blocks: (example: LabeledExample) => Promise<boolean> };
}

export async function evaluateDetectors(examples: LabeledExample[], detectors: Detector[], options: EvaluateOptions = {}): Promise<DetectorEvalReport> {
  const report: DetectorEvalReport = {
    n_pos: examples.filter((example) => example.label === 1).length,
    n_neg: examples.filter((example) => example.label === 0).length,
    detectors: {},
  };
  const every = options.progressEvery ?? 500;
  for (const detector of detectors) {
    const scored: LabeledScore[] = [];
    const latencies: number[] = [];
    let errors = 0;
    for (let index = 0; index < examples.length; index++) {
      const example = examples[index];
      const context: DetectorContext = { role: example.role, params: {}, signal: new AbortController().signal };
      const started = process.hrtime.bigint();
      let score: number;
      try {
        const results = await detector.detect(example.text, context);
        score = results.reduce((max, result) => Math.max(max, result.score), 0);
      } catch {
        // An erroring detector counts as having fired (fail closed), and the count is reported.
        errors++;
        score = 1;
      }
      latencies.push(Number(process.hrtime.bigint() - started) / 1e6);
      scored.push({ score, label: example.label });
      if (options.onProgress && (index + 1) % every === 0) options.onProgress(index + 1, examples.length, detector.id);
    }
    const point = operatingPoint(scored, 0.5);
    const tprInterval = wilsonInterval(point.truePositives, point.positives);
    const fprInterval = wilsonInterval(point.falsePositives, point.negatives);
    report.detectors[detector.id] = {
      auc: rocAuc(scored),
      tpr_at_fpr: { '0.01': tprAtFpr(scored, 0.01), '0.05': tprAtFpr(scored, 0.05) },
      latency_ms: { p50: percentile(latencies, 50), p99: percentile(latencies, 99) },
      at_threshold_0_5: {
        tpr: point.tpr,
        tpr_ci: [tprInterval.low, tprInterval.high],
        fpr: point.fpr,
        fpr_ci: [fprInterval.low, fprInterval.high],
        true_positives: point.truePositives,
        false_positives: point.falsePositives,
      },
      errors,
    };
  }
  if (options.policyDecision) {
    let caught = 0;
    let falseAlarms = 0;
    for (let index = 0; index < examples.length; index++) {
      const example = examples[index];
      const blocked = await options.policyDecision.blocks(example);
      if (blocked && example.label === 1) caught++;
      if (blocked && example.label === 0) falseAlarms++;
      if (options.onProgress && (index + 1) % every === 0) options.onProgress(index + 1, examples.length, `policy ${options.policyDecision.name}`);
    }
    report.policy = {
      name: options.policyDecision.name,
      tpr: report.n_pos ? caught / report.n_pos : Number.NaN,
      fpr: report.n_neg ? falseAlarms / report.n_neg : Number.NaN,
    };
  }
  return report;
}
