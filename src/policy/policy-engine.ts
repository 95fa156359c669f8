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
 * The deadlines of one batch of checks that start together (a stage's parallel runs): one timer per
 * distinct timeout, shared by the checks with that timeout, instead of one per check. A check's
 * deadline is the batch's start plus its timeout (the checks of a batch start within microseconds of
 * each other). `dispose()` clears the timers; call it when the batch is done.
 *
 * The AbortSignal a check receives is created only when the check first reads it (`LazySignal`), and
 * only then is it tied to the request's signal: an AbortSignal and an abort listener on another one
 * cost several microseconds each, and the filters and classifiers that run to completion synchronously
 * never look at it. A read after the deadline or the request's abort gets an already-aborted signal
 * with the same reason. A check that never reads its signal cannot be stopped early anyway; it is still
 * raced against its deadline, and no check starts once the request has been aborted.
 */
export interface LazySignal {
  readonly signal: AbortSignal;
}

export interface CheckDeadlines {
  run<T>(work: (signal: LazySignal) => Promise<T>, timeoutMs: number): Promise<T>;
  dispose(): void;
}

class DeadlineGroup implements LazySignal {
  private controller: AbortController | undefined;
  private reason: unknown;
  private aborted = false;
  private listening = false;
  readonly stop: Promise<never>;
  readonly timer: NodeJS.Timeout;
  private rejectStop!: (reason: unknown) => void;
  private readonly onOuterAbort = () => this.abort(this.outer.reason);

  constructor(
    timeoutMs: number,
    private readonly outer: AbortSignal,
  ) {
    this.stop = new Promise<never>((_, reject) => {
      this.rejectStop = reject;
    });
    // A deadline that passes after every check of its group has finished has no one to tell.
    this.stop.catch(() => undefined);
    this.timer = setTimeout(() => this.abort(new CheckTimeoutError(`timed out after ${timeoutMs} ms`)), timeoutMs);
  }

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (!this.aborted && this.outer.aborted) this.abort(this.outer.reason);
      if (this.aborted) this.controller.abort(this.reason);
      else {
        this.outer.addEventListener('abort', this.onOuterAbort, { once: true });
        this.listening = true;
      }
    }
    return this.controller.signal;
  }

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason ?? new Error('aborted');
    this.controller?.abort(this.reason);
    this.rejectStop(this.reason);
  }

  dispose(): void {
    clearTimeout(this.timer);
    if (this.listening) this.outer.removeEventListener('abort', this.onOuterAbort);
  }
}

export function createCheckDeadlines(outer: AbortSignal): CheckDeadlines {
  const groups = new Map<number, DeadlineGroup>();
  let disposed = false;
  return {
    async run(work, timeoutMs) {
      if (outer.aborted) throw outer.reason ?? new Error('aborted');
      if (disposed) throw new Error('check deadlines already disposed');
      let group = groups.get(timeoutMs);
      if (!group) {
        group = new DeadlineGroup(timeoutMs, outer);
        groups.set(timeoutMs, group);
      }
      return Promise.race([Promise.resolve(group).then(work), group.stop]);
    },
    dispose() {
      disposed = true;
      for (const group of groups.values()) group.dispose();
    },
  };
}

/** Runs `work` with its own AbortSignal, failing after `timeoutMs` or when `outer` aborts (a batch of one). */
export async function runWithTimeout<T>(work: (signal: AbortSignal) => Promise<T>, timeoutMs: number, outer: AbortSignal): Promise<T> {
  const deadlines = createCheckDeadlines(outer);
  try {
    return await deadlines.run((lazy) => work(lazy.signal), timeoutMs);
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

/** The context a check receives; its AbortSignal is built on first read (see LazySignal). */
class CheckContext implements SelfConsistencyContext {
  input?: string;
  samples?: string[];
  sources?: string[];
  drawSamples?: OutputCheckContext['drawSamples'];
  offloadScoring?: SelfConsistencyContext['offloadScoring'];

  constructor(
    readonly role: DetectorContext['role'],
    readonly params: Record<string, unknown>,
    private readonly lazy: LazySignal,
  ) {}

  get signal(): AbortSignal {
    return this.lazy.signal;
  }
}

/** The context a check receives; an output check also sees the input, samples, sources and the sampler. */
function checkContext(role: DetectorContext['role'], params: Record<string, unknown>, lazy: LazySignal, outputContext?: OutputRunContext): CheckContext {
  const context = new CheckContext(role, params, lazy);
  if (outputContext) {
    context.input = outputContext.input;
    context.samples = outputContext.samples;
    context.sources = outputContext.sources;
    context.drawSamples = outputContext.drawSamples;
  }
  return context;
}

/** What a check has to read: the text, plus the samples and sources for an output check (the offload rule's size). */
function workChars(stage: Stage, text: string, outputContext: OutputRunContext | undefined): number {
  return stage === 'output' ? text.length + totalChars(outputContext?.samples) + totalChars(outputContext?.sources) : text.length;
}

/** A check's results, or an error naming the check: an array whose every score is a number. */
function validResults(entry: CheckEntry, results: unknown): DetectorResult[] {
  if (!Array.isArray(results)) throw new Error(`check '${entry.check}' returned no results`);
  for (const result of results as DetectorResult[]) {
    if (typeof result.score !== 'number' || Number.isNaN(result.score)) throw new Error(`check '${entry.check}' returned a score that is not a number`);
  }
  return results as DetectorResult[];
}

/** A LazySignal for synchronous runs: nothing can abort them half-way; a reader gets a live signal. */
const SYNC_RUN_SIGNAL: LazySignal = {
  get signal(): AbortSignal {
    return new AbortController().signal;
  },
};

interface SyncItem {
  entry: CheckEntry;
  info: CheckInfo | undefined;
  text: string;
  role: DetectorContext['role'];
}

/**
 * The synchronous path for one batch: when every check of the batch has a synchronous implementation
 * (Detector.detectSync / OutputCheck.checkSync) that can answer now, and none of them would go to a
 * worker thread or draw samples, they run one after another with no promise, timer and race per check.
 * The results, errors and durations are what runCheck would record (a synchronous check cannot be cut
 * off by its deadline there either: the timer cannot fire while it runs). Returns undefined to take
 * the asynchronous path instead.
 */
function runBatchSync(items: SyncItem[], stage: Stage, outputContext: OutputRunContext | undefined, signal: AbortSignal, offload: CheckOffloader | undefined): CheckRun[] | undefined {
  for (const { entry, info, text } of items) {
    if (!info || info.missing) return undefined;
    if (stage === 'output' ? !info.outputCheck?.checkSync || DRAWING.has(entry.check) : !info.detector?.detectSync) return undefined;
    if (offloadable(offload, entry.check, workChars(stage, text, outputContext))) return undefined;
  }
  if (signal.aborted) throw signal.reason ?? new Error('aborted');
  const runs: CheckRun[] = [];
  for (const { entry, info, text, role } of items) {
    const started = performance.now();
    try {
      const results = stage === 'output'
        ? info!.outputCheck!.checkSync!(text, checkContext(role, entry.params, SYNC_RUN_SIGNAL, outputContext))
        : info!.detector!.detectSync!(text, checkContext(role, entry.params, SYNC_RUN_SIGNAL));
      if (results === undefined) return undefined; // cannot answer now (a model still loading)
      runs.push({ results: validResults(entry, results), durationMs: performance.now() - started });
    } catch (error) {
      runs.push({ error: error instanceof Error ? error.message : String(error), durationMs: performance.now() - started });
    }
  }
  return runs;
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
  const withDeadline = <T>(work: (lazy: LazySignal) => Promise<T>): Promise<T> =>
    deadlines ? deadlines.run(work, timeoutMs) : runWithTimeout((checkSignal) => work({ signal: checkSignal }), timeoutMs, signal);
  try {
    const results = await withDeadline(async (lazy) => {
      if (!info || info.missing) throw new Error(`check '${entry.check}' is not installed in this build`);
      const task = (): CheckTask => ({
        check: entry.check, stage, text, role, params: entry.params,
        ...(stage === 'output' ? { input: outputContext?.input, samples: outputContext?.samples, sources: outputContext?.sources } : {}),
      });
      if (stage === 'output' && info.outputCheck) {
        const draws = outputContext?.drawSamples !== undefined && !(outputContext.samples && outputContext.samples.length > 0) && DRAWING.has(entry.check);
        if (!draws && offloadable(offload, entry.check, workChars(stage, text, outputContext))) return offload.runCheck(task(), lazy.signal);
        const context = checkContext(role, entry.params, lazy, outputContext);
        if (draws && offload && entry.check === 'self_consistency') {
          context.offloadScoring = (scoring) => offloadable(offload, entry.check, scoring.output.length + totalChars(scoring.samples))
            ? offload.scoreConsistency(scoring, lazy.signal)
            : undefined;
        }
        return info.outputCheck.check(text, context);
      }
      if (!info.detector) throw new Error(`check '${entry.check}' has no ${stage} implementation`);
      if (offloadable(offload, entry.check, text.length)) return offload.runCheck(task(), lazy.signal);
      return info.detector.detect(text, checkContext(role, entry.params, lazy));
    });
    return { results: validResults(entry, results), durationMs: performance.now() - started };
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

/**
 * Turns one check run into findings: one per firing result, or one passing finding. Findings are built
 * property by property in one fixed order (the order the API and the audit show) rather than by
 * spreading partial objects — this runs for every check of every request.
 */
export function runToFindings(entry: CheckEntry, info: CheckInfo | undefined, run: CheckRun, stage: Stage, source?: string, choice?: number): Finding[] {
  const version = info?.detector?.version ?? info?.outputCheck?.version;
  const enforced = entry.enforcement === 'enforce';
  const durationMs = Math.round(run.durationMs * 1000) / 1000;
  const make = (check: string, verdict: Finding['verdict'], action: Action, score: number, error: string | undefined, explanation: string, spans: Finding['spans'], details: Record<string, unknown>): Finding => {
    const finding = { check, version, stage } as Finding;
    if (choice !== undefined) finding.choice = choice;
    finding.enforced = enforced;
    if (source !== undefined) finding.source = source;
    finding.durationMs = durationMs;
    finding.verdict = verdict;
    finding.action = action;
    finding.score = score;
    if (error !== undefined) finding.error = error;
    finding.explanation = explanation;
    if (spans !== undefined) finding.spans = spans;
    finding.details = details;
    return finding;
  };
  const entryDetails = (into: Record<string, unknown>): Record<string, unknown> => {
    into.entry = entry.pointer;
    if (entry.id) into.entry_id = entry.id;
    return into;
  };
  if (run.error !== undefined || !run.results) {
    const error = run.error ?? 'no result';
    if (entry.fail_mode === 'open') {
      return [make(entry.check, 'error', 'allow', 0, error, `${entry.check} failed (${error}); fail_mode open: the check was skipped and the text allowed`, undefined, entryDetails({}))];
    }
    const action = escalate(entry.action);
    const explanation = `${entry.check} failed (${error}); fail_mode closed: treated as firing, action ${action}` +
      (action !== entry.action ? ` (the text could not be checked, so it cannot be ${entry.action}ed)` : '');
    return [make(entry.check, 'error', action, 1, error, explanation, undefined, entryDetails({}))];
  }
  const threshold = entry.threshold ?? info?.defaultThreshold ?? 0.5;
  const firesWhen = info?.firesWhen ?? 'at_or_above';
  const findingOf = (result: DetectorResult, verdict: 'pass' | 'fail'): Finding => {
    const details: Record<string, unknown> = {};
    if (result.details) for (const key of Object.keys(result.details)) details[key] = result.details[key];
    entryDetails(details);
    details.threshold = threshold;
    if (firesWhen === 'below') details.fires_when = 'below';
    return make(
      result.subCheck ? `${entry.check}.${result.subCheck}` : entry.check,
      verdict,
      verdict === 'fail' ? entry.action : 'allow',
      Math.min(1, Math.max(0, result.score)),
      undefined,
      result.explanation,
      result.spans && result.spans.length > 0 ? result.spans : undefined,
      details,
    );
  };
  const results = run.results;
  const firing: Finding[] = [];
  for (const result of results) if (fires(result.score, threshold, firesWhen)) firing.push(findingOf(result, 'fail'));
  if (firing.length > 0) return firing;
  if (results.length === 0) return [make(entry.check, 'pass', 'allow', 0, undefined, `${entry.check}: no result`, undefined, entryDetails({}))];
  let top = results[0];
  for (const result of results) if (firesWhen === 'below' ? result.score < top.score : result.score > top.score) top = result;
  return [findingOf(top, 'pass')];
}

interface FiredRun {
  entry: CheckEntry;
  info: CheckInfo | undefined;
  run: CheckRun;
}

/** Applies the sanitize/redact effects of the firing, enforced runs on one text. */
function sanitizeText(text: string, fired: FiredRun[], rerun: (fired: FiredRun, text: string) => Promise<CheckRun>): string | Promise<string> {
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
  const replaced = applyReplacements(text, replacements);
  if (wholeText.length === 1 && replacements.length === 0) return wholeText[0].sanitized;
  // Only checks that rewrite the whole text, run again on the partly cleaned text, need to wait.
  if (wholeText.length === 0) return replaced;
  return (async () => {
    let current = replaced;
    for (const { fired: item } of wholeText) {
      const again = await rerun(item, current);
      const replacement = again.results?.find((result) => typeof result.sanitized === 'string')?.sanitized;
      if (replacement !== undefined) current = replacement;
    }
    return current;
  })();
}

function appliesTo(entry: CheckEntry, part: InputPart): boolean {
  return (entry.applies_to ?? DEFAULT_APPLIES_TO).includes(part.role);
}

export async function runInputChecks(policy: Policy, parts: InputParts, registry: CheckRegistry, signal: AbortSignal): Promise<InputCheckOutcome> {
  const list = listInputParts(parts);
  const jobs = policy.input.flatMap((entry) =>
    list.map((part, partIndex) => ({ entry, part, partIndex })).filter(({ part }) => appliesTo(entry, part)));
  if (jobs.length === 0) {
    // Nothing applies (e.g. `permissive`): no deadlines, no copies — the parts come back as they are.
    const unchanged: InputParts = {};
    if (typeof parts.prompt === 'string') unchanged.prompt = parts.prompt;
    if (parts.messages) unchanged.messages = parts.messages;
    if (parts.context) unchanged.context = parts.context;
    return { findings: [], sanitizedParts: unchanged, decision: decide([]) };
  }
  const infos = jobs.map((job) => registry.get(job.entry.check));
  const quick = runBatchSync(jobs.map((job, index) => ({ entry: job.entry, info: infos[index], text: job.part.text, role: job.part.role })), 'input', undefined, signal, registry.offload);
  let runs: Array<(typeof jobs)[number] & { info: CheckInfo | undefined; run: CheckRun }>;
  if (quick) {
    runs = jobs.map((job, index) => ({ ...job, info: infos[index], run: quick[index] }));
  } else {
    const deadlines = createCheckDeadlines(signal);
    runs = await Promise.all(jobs.map(async (job, index) => {
      const info = infos[index];
      return { ...job, info, run: await runCheck(job.entry, info, 'input', job.part.text, job.part.role, undefined, signal, registry.offload, deadlines) };
    })).finally(() => deadlines.dispose());
  }
  const findings = runs.flatMap(({ entry, info, run, part }) => runToFindings(entry, info, run, 'input', part.source));

  const pending = list.map((part, partIndex) => sanitizeText(
    part.text,
    runs.filter((run) => run.partIndex === partIndex),
    (item, text) => runCheck(item.entry, item.info, 'input', text, part.role, undefined, signal, registry.offload),
  ));
  const sanitizedTexts = pending.some((text) => typeof text !== 'string') ? await Promise.all(pending) : (pending as string[]);
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
  if (entries.length === 0) return { findings: [], sanitizedOutput: output, decision: decide([]) };
  const infos = entries.map((entry) => registry.get(entry.check));
  const quick = runBatchSync(entries.map((entry, index) => ({ entry, info: infos[index], text: output, role: 'assistant' as const })), 'output', context, signal, registry.offload);
  let runs: Array<{ entry: CheckEntry; info: CheckInfo | undefined; run: CheckRun }>;
  if (quick) {
    runs = entries.map((entry, index) => ({ entry, info: infos[index], run: quick[index] }));
  } else {
    const deadlines = createCheckDeadlines(signal);
    runs = await Promise.all(entries.map(async (entry, index) => {
      const info = infos[index];
      return { entry, info, run: await runCheck(entry, info, 'output', output, 'assistant', context, signal, registry.offload, deadlines) };
    })).finally(() => deadlines.dispose());
  }
  const findings = runs.flatMap(({ entry, info, run }) => runToFindings(entry, info, run, 'output', undefined, context.choice));
  const sanitizedOutput = await sanitizeText(output, runs, (item, text) => runCheck(item.entry, item.info, 'output', text, 'assistant', context, signal, registry.offload));
  return { findings, sanitizedOutput, decision: decide(findings) };
}
