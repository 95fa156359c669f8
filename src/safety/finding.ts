/**
 * Findings and decisions: what every detector and output check reports, and how findings combine
 * into a decision (SPEC.md §3: block > redact > sanitize > flag > allow; shadow findings never count).
 */

export type Action = 'allow' | 'flag' | 'sanitize' | 'redact' | 'block';
export type Decision = Action;
export type Verdict = 'pass' | 'fail' | 'error';
export type Stage = 'input' | 'output';

export interface Finding {
  /** Check id, dotted for sub-checks: `pii.email`, `prompt_injection`, `unicode.bidi`. */
  check: string;
  /** Version of the detector/check implementation that produced it. */
  version?: string;
  stage: Stage;
  /** Which choice (for n > 1) an output finding belongs to. */
  choice?: number;
  verdict: Verdict;
  /** The action the policy attaches when the verdict is `fail` (or `error` under fail_mode closed). */
  action: Action;
  /** false for shadow-mode findings: reported and audited, never change the decision. */
  enforced: boolean;
  /** In [0, 1]. */
  score: number;
  explanation: string;
  /** [start, end) offsets into the text the check looked at (UTF-16 code units). */
  spans?: Array<[number, number]>;
  /** Which part of the input: `prompt`, `messages/2`, `context/0`… */
  source?: string;
  durationMs?: number;
  /** Set when the check itself failed (timeout, exception); kept apart from the verdict. */
  error?: string;
  /** Check-specific extra detail (e.g. the redaction replacement, the suspected trigger words). */
  details?: Record<string, unknown>;
}

const ACTION_RANK: Record<Action, number> = { allow: 0, flag: 1, sanitize: 2, redact: 3, block: 4 };

export function actionRank(action: Action): number {
  return ACTION_RANK[action];
}

export function strongerAction(a: Action, b: Action): Action {
  return ACTION_RANK[a] >= ACTION_RANK[b] ? a : b;
}

/** The decision the findings lead to: the strongest action among enforced, non-passing findings. */
export function decide(findings: readonly Finding[]): Decision {
  let decision: Decision = 'allow';
  for (const finding of findings) {
    if (!finding.enforced || finding.verdict === 'pass') continue;
    decision = strongerAction(decision, finding.action);
  }
  return decision;
}
