/**
 * checkText: the body of `POST /v1/check` (minus `audit_id`, which the route adds) and of `rein check`:
 * runs a policy's input checks on `input` and the `context` documents (screened as untrusted input)
 * and its output checks on `output` (with `samples` and `context` as the grounding sources), and
 * returns the decision, the findings as a decision trace, the sanitized texts and, when a
 * consistency check ran, its sentence scores. A `block` is an ordinary result here: nothing was generated.
 */
import type { Decision, Finding } from '../safety/finding';
import { strongerAction } from '../safety/finding';
import type { CheckRegistry } from './check-registry';
import { runInputChecks, runOutputChecks } from './policy-engine';
import type { Policy } from './policy-types';

export interface CheckRequest {
  input?: string;
  output?: string;
  samples?: string[];
  context?: string[];
}

export interface ConsistencyReport {
  score: number;
  sentences: Array<{ text: string; score: number }>;
}

export interface CheckResponse {
  decision: Decision;
  findings: Finding[];
  consistency?: ConsistencyReport;
  sanitized_input?: string;
  sanitized_output?: string;
  policy: { name: string; revision: string };
}

/** The consistency report (SPEC.md §3) from a self_consistency finding's details, if one ran. */
export function consistencyOf(findings: Finding[]): ConsistencyReport | undefined {
  const candidates = [...findings].sort((a, b) => Number(b.check.startsWith('self_consistency')) - Number(a.check.startsWith('self_consistency')));
  for (const finding of candidates) {
    const sentences = finding.details?.sentences;
    if (!Array.isArray(sentences)) continue;
    const details = finding.details ?? {};
    const score = typeof details.passage_score === 'number' ? details.passage_score : typeof details.score === 'number' ? details.score : finding.score;
    return {
      score,
      sentences: (sentences as Array<{ text?: unknown; score?: unknown }>).map((sentence) => ({ text: String(sentence.text ?? ''), score: Number(sentence.score ?? 0) })),
    };
  }
  return undefined;
}

export async function checkText(request: CheckRequest, policy: Policy, registry: CheckRegistry, signal: AbortSignal): Promise<CheckResponse> {
  const findings: Finding[] = [];
  let decision: Decision = 'allow';
  const response: Partial<CheckResponse> = {};
  const hasInput = typeof request.input === 'string' || (request.context?.length ?? 0) > 0;
  const [inputOutcome, outputOutcome] = await Promise.all([
    hasInput ? runInputChecks(policy, { prompt: request.input, context: request.context }, registry, signal) : undefined,
    typeof request.output === 'string'
      ? runOutputChecks(policy, request.output, { input: request.input, samples: request.samples, sources: request.context }, registry, signal)
      : undefined,
  ]);
  if (inputOutcome) {
    findings.push(...inputOutcome.findings);
    decision = strongerAction(decision, inputOutcome.decision);
    if (typeof request.input === 'string') response.sanitized_input = inputOutcome.sanitizedParts.prompt;
  }
  if (outputOutcome) {
    findings.push(...outputOutcome.findings);
    decision = strongerAction(decision, outputOutcome.decision);
    response.sanitized_output = outputOutcome.sanitizedOutput;
  }
  const consistency = consistencyOf(findings);
  return {
    decision,
    findings,
    ...(consistency ? { consistency } : {}),
    ...response,
    policy: { name: policy.name, revision: policy.revision },
  };
}
