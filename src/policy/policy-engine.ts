/**
 * The check engine: runs a policy's input checks over the parts of a request (prompt, each message
 * with its role, each context document) and its output checks over each choice's output, all in
 * parallel, each under its own timeout (an AbortSignal the check receives, and a race for checks that
 * ignore it). Raw DetectorResults become Findings: the threshold decides the verdict (score >= threshold,
 * or < threshold for checks that fire when below), the entry's action and enforcement are attached,
 * and errors follow the entry's fail_mode:
 *   closed (default): verdict `error`, the entry's action — except that sanitize/redact become block,
 *                     because text that could not be checked cannot be cleaned either;
 *   open:             verdict `error`, action allow, and the explanation says the check was skipped.
 * An error is never silently an allow. Sanitize/redact actions rewrite the text: span replacements
 * from all firing enforced checks are merged and applied right to left; a check that only returns a
 * whole `sanitized` text is re-run on the partially cleaned text when others changed it too.
 * When the registry carries an offloader (check-worker-pool.ts), builtin checks over large texts run on
 * worker threads instead of the event loop (see `offloadable`); the findings are the same.
 */
import type { ChatMessage } from '../backends/backend';
import type { DetectorContext, DetectorResult, OutputCheckContext } from '../safety/detector';
import { decide, type Action, type Decision, type Finding, type Stage } from '../safety/finding';
import { applyReplacements, type Replacement } from './apply-replacements';
import type { SelfConsistencyContext } from '../safety/checks/self-consistency-check';
import { WELL_KNOWN_CHECK_IDS, type CheckInfo, type CheckRegistry } from './check-registry';
import type { CheckOffloader, CheckTask } from './check-worker-pool';
import { DEFAULT_APPLIES_TO, DEFAULT_TIMEOUT_MS, type CheckEntry, type InputRole, type Policy } from './policy-types';

export interface InputParts {
  prompt?: string;
  messages?: ChatMessage[];
  /** Grounding documents: screened as untrusted input (indirect injection). */
  context?: string[];
}

export interface InputPart {
  /** `prompt`, `messages/2`, `context/0`. */
  source: string;
  role: InputRole;
  text: string;
}

export interface InputCheckOutcome {
  findings: Finding[];
  sanitizedParts: InputParts;
  decision: Decision;
}

export interface OutputRunContext {
  input?: string;
  samples?: string[];
  sources?: string[];
  drawSamples?(count: number, temperature: number): Promise<string[]>;
  /** Choice index for n > 1 (copied into findings). */
  choice?: number;
}

export interface OutputCheckOutcome {
  findings: Finding[];
  sanitizedOutput: string;
  decision: Decision;
}

export class CheckTimeoutError extends Error {}

/** Checks a worker can run: the builtin ones (a worker builds its registry with loadBuiltinChecks). */
const OFFLOADABLE = new Set<string>(WELL_KNOWN_CHECK_IDS);
/**
 * Checks far costlier per character than the filters (language-model scoring): the size where their
 * inline time crosses ~1 ms (tools/bench-offload.ts), used instead of `minChars` when smaller.
 */
const HEAVY_CHECK_MIN_CHARS: Record<string, number> = { adversarial_suffix: 256, backdoor_trigger: 1024 };
/** Output checks that call ctx.drawSamples when no samples were supplied (a main-thread callback). */
const DRAWING = new Set<string>(['self_consistency', 'vote']);

function totalChars(texts: readonly string[] | undefined): number {
  let total = 0;
  for (const text of texts ?? []) total += typeof text === 'string' ? text.length : 0;
  return total;
}

interface CheckRun {
  results?: DetectorResult[];
  error?: string;
  durationMs: number;
}

export function listInputParts(parts: InputParts): InputPart[] {
  const list: InputPart[] = [];
  if (typeof parts.prompt === 'string') list.push({ source: 'prompt', role: 'prompt', text: parts.prompt });
  (parts.messages ?? []).forEach((message, index) => list.push({ source: `messages/${index}`, role: message.role, text: message.content }));
  (parts.context ?? []).forEach((document, index) => list.push({ source: `context/${index}`, role: 'context', text: document }));
  return list;
}

/**
 * The deadlines of one batch of checks that start together (a stage's parallel runs): one
 * AbortController and one timer per distinct timeout, shared by the checks with that timeout, instead
 * of one per check — with seven checks a request that was seven controllers, timers and abort
 * listeners. A check's deadline is the batch's start plus its timeout (the checks of a batch start
 * within microseconds of each other). `dispose()` clears the timers; call it when the batch is done.
 */
export interface CheckDeadlines {
  run<T>(work: (signal: AbortSignal) => Promise<T>, timeoutMs: number): Promise<T>;
  dispose(): void;
}

export function createCheckDeadlines(outer: AbortSignal): CheckDeadlines {
  const groups = new Map<number, { controller: AbortController; stop: Promise<never>; timer: NodeJS.Timeout }>();
  let disposed = false;
  const onOuterAbort = () => {
    for (const group of groups.values()) group.controller.abort(outer.reason);
  };
  outer.addEventListener('abort', onOuterAbort, { once: true });
  const groupFor = (timeoutMs: number) => {
    let group = groups.get(timeoutMs);
    if (!group) {
      const controller = new AbortController();
      let timer!: NodeJS.Timeout;
      const stop = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          const error = new CheckTimeoutError(`timed out after ${timeoutMs} ms`);
          controller.abort(error);
          reject(error);
        }, timeoutMs);
        controller.signal.addEventListener('abort', () => reject(controller.signal.reason ?? new Error('aborted')), { once: true });
      });
      // A deadline that passes after every check of its group has finished has no one to tell.
      stop.catch(() => undefined);
      group = { controller, stop, timer };
      groups.set(timeoutMs, group);
    }
    return group;
  };
  return {
    async run(work, timeoutMs) {
      if (outer.aborted) throw outer.reason ?? new Error('aborted');
      if (disposed) throw new Error('check deadlines already disposed');
      const group = groupFor(timeoutMs);
      return Promise.race([Promise.resolve().then(() => work(group.controller.signal)), group.stop]);
    },
    dispose() {
      disposed = true;
      for (const group of groups.values()) clearTimeout(group.timer);
      outer.removeEventListener('abort', onOuterAbort);
    },
  };
}

/** Runs `work` with its own AbortSignal, failing after `timeoutMs` or when `outer` aborts (a batch of one). */
export async function runWithTimeout<T>(work: (signal: AbortSignal) => Promise<T>, timeoutMs: number, outer: AbortSignal): Promise<T> {
  const deadlines = createCheckDeadlines(outer);
  try {
    return await deadlines.run(work, timeoutMs);
  } finally {
    deadlines.dispose();
  }
}

/**
 * Offload rule (issue 11): a builtin check runs on the registry's worker pool when its work — the text,
 * plus the samples and sources for an output check — is at least `minChars` characters (less for the
 * language-model detectors, see HEAVY_CHECK_MIN_CHARS) and the pool has room; everything else runs inline (a thread hop costs more than a short text's checks). A check that
 * would draw samples through the main thread's backend (self_consistency, vote without samples) runs
 * inline; self_consistency then draws here and sends only its (large) lexical scoring to the pool.
 */
function offloadable(offload: CheckOffloader | undefined, check: string, chars: number): offload is CheckOffloader {
  if (offload === undefined || !OFFLOADABLE.has(check)) return false;
  return chars >= Math.min(offload.minChars, HEAVY_CHECK_MIN_CHARS[check] ?? Infinity) && offload.hasRoom();
}

async function runCheck(
  entry: CheckEntry,
  info: CheckInfo | undefined,
  stage: Stage,
  text: string,
  role: DetectorContext['role'],
  outputContext: OutputRunContext | undefined,
  signal: AbortSignal,
  offload?: CheckOffloader,
  deadlines?: CheckDeadlines,
): Promise<CheckRun> {
  const started = performance.now();
  const timeoutMs = entry.timeout_ms ?? DEFAULT_TIMEOUT_MS;
  const withDeadline = <T>(work: (checkSignal: AbortSignal) => Promise<T>): Promise<T> =>
    deadlines ? deadlines.run(work, timeoutMs) : runWithTimeout(work, timeoutMs, signal);
  try {
    const results = await withDeadline(async (checkSignal) => {
      if (!info || info.missing) throw new Error(`check '${entry.check}' is not installed in this build`);
      const base: DetectorContext = { role, params: entry.params, signal: checkSignal };
      const task = (): CheckTask => ({
        check: entry.check, stage, text, role, params: entry.params,
        ...(stage === 'output' ? { input: outputContext?.input, samples: outputContext?.samples, sources: outputContext?.sources } : {}),
      });
      if (stage === 'output' && info.outputCheck) {
        const draws = outputContext?.drawSamples !== undefined && !(outputContext.samples && outputContext.samples.length > 0) && DRAWING.has(entry.check);
        const chars = text.length + totalChars(outputContext?.samples) + totalChars(outputContext?.sources);
        if (!draws && offloadable(offload, entry.check, chars)) return offload.runCheck(task(), checkSignal);
        const context: SelfConsistencyContext = {
          ...base, input: outputContext?.input, samples: outputContext?.samples, sources: outputContext?.sources,
          drawSamples: outputContext?.drawSamples,
        };
        if (draws && offload && entry.check === 'self_consistency') {
          context.offloadScoring = (scoring) => offloadable(offload, entry.check, scoring.output.length + totalChars(scoring.samples))
            ? offload.scoreConsistency(scoring, checkSignal)
            : undefined;
        }
        return info.outputCheck.check(text, context as OutputCheckContext);
      }
      if (!info.detector) throw new Error(`check '${entry.check}' has no ${stage} implementation`);
      if (offloadable(offload, entry.check, text.length)) return offload.runCheck(task(), checkSignal);
      return info.detector.detect(text, base);
    });
    if (!Array.isArray(results)) throw new Error(`check '${entry.check}' returned no results`);
    for (const result of results) {
      if (typeof result.score !== 'number' || Number.isNaN(result.score)) throw new Error(`check '${entry.check}' returned a score that is not a number`);
    }
    return { results, durationMs: performance.now() - started };
  } catch (error) {
    if (signal.aborted) throw signal.reason ?? error;
    return { error: error instanceof Error ? error.message : String(error), durationMs: performance.now() - started };
  }
}

export function fires(score: number, threshold: number, firesWhen: CheckInfo['firesWhen']): boolean {
  return firesWhen === 'below' ? score < threshold : score >= threshold;
}

function escalate(action: Action): Action {
  return action === 'sanitize' || action === 'redact' ? 'block' : action;
}

/** Turns one check run into findings: one per firing result, or one passing finding. */
export function runToFindings(entry: CheckEntry, info: CheckInfo | undefined, run: CheckRun, stage: Stage, source?: string, choice?: number): Finding[] {
  const enforced = entry.enforcement === 'enforce';
  const base = {
    version: info?.detector?.version ?? info?.outputCheck?.version,
    stage,
    ...(choice === undefined ? {} : { choice }),
    enforced,
    ...(source === undefined ? {} : { source }),
    durationMs: Math.round(run.durationMs * 1000) / 1000,
  };
  const entryDetails = { entry: entry.pointer, ...(entry.id ? { entry_id: entry.id } : {}) };
  if (run.error !== undefined || !run.results) {
    const error = run.error ?? 'no result';
    if (entry.fail_mode === 'open') {
      return [{
        check: entry.check, ...base, verdict: 'error', action: 'allow', score: 0, error,
        explanation: `${entry.check} failed (${error}); fail_mode open: the check was skipped and the text allowed`,
        details: entryDetails,
      }];
    }
    const action = escalate(entry.action);
    return [{
      check: entry.check, ...base, verdict: 'error', action, score: 1, error,
      explanation: `${entry.check} failed (${error}); fail_mode closed: treated as firing, action ${action}` +
        (action !== entry.action ? ` (the text could not be checked, so it cannot be ${entry.action}ed)` : ''),
      details: entryDetails,
    }];
  }
  const threshold = entry.threshold ?? info?.defaultThreshold ?? 0.5;
  const firesWhen = info?.firesWhen ?? 'at_or_above';
  const firing = run.results.filter((result) => fires(result.score, threshold, firesWhen));
  const findingOf = (result: DetectorResult, verdict: 'pass' | 'fail'): Finding => ({
    check: result.subCheck ? `${entry.check}.${result.subCheck}` : entry.check,
    ...base,
    verdict,
    action: verdict === 'fail' ? entry.action : 'allow',
    score: Math.min(1, Math.max(0, result.score)),
    explanation: result.explanation,
    ...(result.spans && result.spans.length > 0 ? { spans: result.spans } : {}),
    details: { ...(result.details ?? {}), ...entryDetails, threshold, ...(firesWhen === 'below' ? { fires_when: 'below' } : {}) },
  });
  if (firing.length > 0) return firing.map((result) => findingOf(result, 'fail'));
  if (run.results.length === 0) return [{ check: entry.check, ...base, verdict: 'pass', action: 'allow', score: 0, explanation: `${entry.check}: no result`, details: entryDetails }];
  const top = run.results.reduce((best, result) => (firesWhen === 'below' ? result.score < best.score : result.score > best.score) ? result : best);
  return [findingOf(top, 'pass')];
}

interface FiredRun {
  entry: CheckEntry;
  info: CheckInfo | undefined;
  run: CheckRun;
}

/** Applies the sanitize/redact effects of the firing, enforced runs on one text. */
async function sanitizeText(text: string, fired: FiredRun[], rerun: (fired: FiredRun, text: string) => Promise<CheckRun>): Promise<string> {
  const replacements: Replacement[] = [];
  const wholeText: Array<{ fired: FiredRun; sanitized: string }> = [];
  for (const item of fired) {
    const { entry, info, run } = item;
    if (entry.enforcement !== 'enforce' || (entry.action !== 'sanitize' && entry.action !== 'redact') || !run.results) continue;
    const threshold = entry.threshold ?? info?.defaultThreshold ?? 0.5;
    const firing = run.results.filter((result) => fires(result.score, threshold, info?.firesWhen ?? 'at_or_above'));
    const sanitized = firing.find((result) => typeof result.sanitized === 'string' && !result.replacements)?.sanitized;
    if (sanitized !== undefined) {
      wholeText.push({ fired: item, sanitized });
      continue;
    }
    for (const result of firing) {
      if (result.replacements) replacements.push(...result.replacements);
      else for (const [start, end] of result.spans ?? []) replacements.push({ start, end, text: entry.action === 'redact' ? '[REDACTED]' : '' });
    }
  }
  let current = applyReplacements(text, replacements);
  if (wholeText.length === 1 && replacements.length === 0) return wholeText[0].sanitized;
  for (const { fired: item } of wholeText) {
    const again = await rerun(item, current);
    const replacement = again.results?.find((result) => typeof result.sanitized === 'string')?.sanitized;
    if (replacement !== undefined) current = replacement;
  }
  return current;
}

function appliesTo(entry: CheckEntry, part: InputPart): boolean {
  return (entry.applies_to ?? DEFAULT_APPLIES_TO).includes(part.role);
}

export async function runInputChecks(policy: Policy, parts: InputParts, registry: CheckRegistry, signal: AbortSignal): Promise<InputCheckOutcome> {
  const list = listInputParts(parts);
  const jobs = policy.input.flatMap((entry) =>
    list.map((part, partIndex) => ({ entry, part, partIndex })).filter(({ part }) => appliesTo(entry, part)));
  const deadlines = createCheckDeadlines(signal);
  const runs = await Promise.all(jobs.map(async (job) => {
    const info = registry.get(job.entry.check);
    return { ...job, info, run: await runCheck(job.entry, info, 'input', job.part.text, job.part.role, undefined, signal, registry.offload, deadlines) };
  })).finally(() => deadlines.dispose());
  const findings = runs.flatMap(({ entry, info, run, part }) => runToFindings(entry, info, run, 'input', part.source));

  const sanitizedTexts = await Promise.all(list.map((part, partIndex) => sanitizeText(
    part.text,
    runs.filter((run) => run.partIndex === partIndex),
    (item, text) => runCheck(item.entry, item.info, 'input', text, part.role, undefined, signal, registry.offload),
  )));
  const sanitizedParts: InputParts = {};
  let cursor = 0;
  if (typeof parts.prompt === 'string') sanitizedParts.prompt = sanitizedTexts[cursor++];
  if (parts.messages) sanitizedParts.messages = parts.messages.map((message) => ({ ...message, content: sanitizedTexts[cursor++] }));
  if (parts.context) sanitizedParts.context = parts.context.map(() => sanitizedTexts[cursor++]);
  return { findings, sanitizedParts, decision: decide(findings) };
}

export async function runOutputChecks(
  policy: Policy,
  output: string,
  context: OutputRunContext,
  registry: CheckRegistry,
  signal: AbortSignal,
  options: { entries?: readonly CheckEntry[] } = {},
): Promise<OutputCheckOutcome> {
  const entries = options.entries ?? policy.output;
  const deadlines = createCheckDeadlines(signal);
  const runs = await Promise.all(entries.map(async (entry) => {
    const info = registry.get(entry.check);
    return { entry, info, run: await runCheck(entry, info, 'output', output, 'assistant', context, signal, registry.offload, deadlines) };
  })).finally(() => deadlines.dispose());
  const findings = runs.flatMap(({ entry, info, run }) => runToFindings(entry, info, run, 'output', undefined, context.choice));
  const sanitizedOutput = await sanitizeText(output, runs, (item, text) => runCheck(item.entry, item.info, 'output', text, 'assistant', context, signal, registry.offload));
  return { findings, sanitizedOutput, decision: decide(findings) };
}
