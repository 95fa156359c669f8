/**
 * createCheckWorkerPool: worker threads that run builtin checks off the event loop (issue 11). A check
 * over a large text (a 100 kB output: 20–80 ms in the pii/blocklist/language filters) would otherwise
 * stall every other request for that long; on a worker the event loop stays free. The policy engine
 * decides what goes here (see `offload` in policy-engine.ts): only large work — a thread hop costs
 * ~50–100 µs, more than a chat turn's checks — and never a check that needs a main-thread callback.
 *
 * Each worker builds its own registry with loadBuiltinChecks from the same options as the main thread's
 * (plain data: the redaction key, detector and output-check options), so results are identical. When no
 * redaction key is given, the main thread's per-process key is passed on, so `redaction: hash` tokens
 * agree too. Workers start lazily — the first hasRoom() starts one, warm() starts them all — and a task
 * goes only to a worker that has finished loading: until one has, hasRoom() is false and the engine runs
 * the check inline, so a slow start (the detectors' models load in each worker) never costs a request its
 * timeout. Up to `workers` tasks run at once, one per worker; the rest wait in a bounded queue (hasRoom()
 * is false when it is full). A task whose signal aborts leaves the queue; a running one that times out
 * (the engine's per-check timeout) has its worker terminated and a fresh one started, so a runaway check
 * cannot keep burning CPU. A running task abandoned for another reason (the request went away) is left
 * to finish — restarting a worker costs more than most checks, and a client must not be able to buy
 * restarts with disconnects — but only for `abandonedGraceMs`, after which its worker is replaced too. A worker that dies on its own fails its task (the entry's
 * fail_mode applies) and is replaced; after three workers in a row die before becoming ready, the pool
 * stops starting them, fails the queued tasks with the reason and has no room any more (the engine then
 * runs everything inline, as without a pool). close() terminates all workers.
 */
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { DetectorResult } from '../safety/detector';
import type { ConsistencyScoring, ConsistencyScoringTask } from '../safety/checks/self-consistency-check';
import { defaultRedactionKey } from '../safety/filters/redaction-token';
import type { BuiltinCheckOptions } from './builtin-checks';
import { CheckTimeoutError } from './policy-engine';
import { DEFAULT_TIMEOUT_MS } from './policy-types';
import type { CheckTask, WorkerRequest, WorkerResponse } from './check-worker-protocol';

export type { CheckTask } from './check-worker-protocol';

/** Texts below this many characters (text + samples + sources) run inline. See docs/configuration.md. */
export const DEFAULT_OFFLOAD_MIN_CHARS = 8192;
export const DEFAULT_OFFLOAD_QUEUE = 256;
const MAX_START_FAILURES = 3;

export function defaultCheckWorkers(): number {
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  return Math.max(1, Math.min(4, cores - 1));
}

export interface CheckWorkerPoolOptions {
  /** The options the main thread's registry was built with (functions and `log` are not allowed). */
  checks: Omit<BuiltinCheckOptions, 'log'>;
  /** Worker threads (default: defaultCheckWorkers()). */
  workers?: number;
  /** Tasks waiting for a worker at most (default 256). */
  maxQueue?: number;
  /** Work of at least this many characters is offloaded (used by the engine; default 8192). */
  minChars?: number;
  /** How long a running task abandoned by its request may still run before its worker is replaced (default 2000). */
  abandonedGraceMs?: number;
  /** Where worker failures are reported. */
  log?: (message: string) => void;
}

export interface CheckWorkerPoolStats {
  workers: number;
  busy: number;
  queued: number;
  /** Workers started, in all (the first ones included). */
  started: number;
  /** Workers terminated because their task was abandoned (timeout or abort). */
  terminated: number;
  /** Workers that died on their own. */
  crashed: number;
  /** Worker threads that have exited (for whatever reason). */
  exited: number;
  /** Tasks a worker answered. */
  completed: number;
}

/** What the policy engine needs from a pool (see CheckRegistry.offload). */
export interface CheckOffloader {
  readonly minChars: number;
  hasRoom(): boolean;
  runCheck(task: CheckTask, signal: AbortSignal): Promise<DetectorResult[]>;
  scoreConsistency(task: ConsistencyScoringTask, signal: AbortSignal): Promise<ConsistencyScoring>;
}

export interface CheckWorkerPool extends CheckOffloader {
  readonly size: number;
  /** Starts all workers; resolves when every one has loaded its checks. */
  warm(): Promise<void>;
  stats(): CheckWorkerPoolStats;
  close(): Promise<void>;
}

type Request = { kind: 'check'; task: CheckTask } | { kind: 'consistency'; task: ConsistencyScoringTask };

interface Job {
  id: number;
  request: Request;
  signal: AbortSignal;
  resolve(response: Extract<WorkerResponse, { ok: true }>): void;
  reject(error: Error): void;
  onAbort(): void;
  /** Its request went away while it ran: the answer is dropped. */
  abandoned?: boolean;
}

interface Slot {
  worker: Worker;
  ready: boolean;
  job?: Job;
  abandonTimer?: NodeJS.Timeout;
  /** Set when the pool terminated it (its exit is expected). */
  retired: boolean;
}

// The worker's first code: plain JavaScript, so the pool works from dist/ and from the TypeScript sources
// (tests), where the entry and everything it requires are transpiled on load (no type-check).
const BOOTSTRAP = `
const { workerData } = require('node:worker_threads');
if (workerData.entry.endsWith('.ts')) {
  const fs = require('node:fs');
  const ts = require(workerData.typescript);
  const compilerOptions = { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true, resolveJsonModule: true };
  require.extensions['.ts'] = (module, filename) => {
    const output = ts.transpileModule(fs.readFileSync(filename, 'utf8'), { fileName: filename, compilerOptions });
    module._compile(output.outputText, filename);
  };
}
require(workerData.entry);
`;

function workerEntry(): { entry: string; typescript?: string } {
  const extension = path.extname(__filename);
  const entry = path.join(__dirname, `check-worker${extension}`);
  return extension === '.ts' ? { entry, typescript: require.resolve('typescript') } : { entry };
}

function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new Error(reason === undefined ? 'aborted' : String(reason));
}

export function createCheckWorkerPool(options: CheckWorkerPoolOptions): CheckWorkerPool {
  const size = Math.max(1, Math.floor(options.workers ?? defaultCheckWorkers()));
  const maxQueue = Math.max(0, Math.floor(options.maxQueue ?? DEFAULT_OFFLOAD_QUEUE));
  const minChars = Math.max(0, Math.floor(options.minChars ?? DEFAULT_OFFLOAD_MIN_CHARS));
  const abandonedGraceMs = Math.max(0, options.abandonedGraceMs ?? DEFAULT_TIMEOUT_MS);
  const log = options.log ?? ((message: string) => process.stderr.write(`${message}\n`));
  const checks: Omit<BuiltinCheckOptions, 'log'> = { ...options.checks, redactionKey: options.checks.redactionKey ?? defaultRedactionKey() };
  try {
    structuredClone(checks);
  } catch (error) {
    throw new Error(`check worker options must be plain data (no functions): ${(error as Error).message}`);
  }
  const { entry, typescript } = workerEntry();

  const slots: Slot[] = [];
  const queue: Job[] = [];
  const stats = { started: 0, terminated: 0, crashed: 0, exited: 0, completed: 0 };
  let nextId = 1;
  let startFailures = 0;
  let broken: Error | undefined;
  let closed = false;
  let waiters: Array<{ resolve(): void; reject(error: Error): void }> = [];

  const notify = (): void => {
    const failure = closed ? new Error('the check worker pool is closed') : broken;
    if (!failure && slots.filter((slot) => slot.ready).length < size) return;
    const pending = waiters;
    waiters = [];
    for (const waiter of pending) {
      if (failure) waiter.reject(failure);
      else waiter.resolve();
    }
  };

  const spawn = (): void => {
    const worker = new Worker(BOOTSTRAP, { eval: true, workerData: { entry, typescript, options: checks } });
    worker.unref();
    const slot: Slot = { worker, ready: false, retired: false };
    slots.push(slot);
    stats.started += 1;
    let failure: Error | undefined;
    worker.on('message', (message: WorkerResponse) => {
      if (message.id === undefined) {
        slot.ready = true;
        startFailures = 0;
        notify();
        dispatch();
        return;
      }
      const job = slot.job;
      if (!job || job.id !== message.id) return;
      finish(slot);
      stats.completed += 1;
      if (job.abandoned) {
        // Its promise was already rejected.
      } else if (message.ok) job.resolve(message);
      else job.reject(new Error(message.error));
      dispatch();
    });
    worker.on('error', (error) => {
      failure = error;
    });
    worker.on('exit', (code) => {
      stats.exited += 1;
      const index = slots.indexOf(slot);
      if (index >= 0) slots.splice(index, 1);
      if (slot.retired || closed) return;
      stats.crashed += 1;
      const reason = failure ?? new Error(`exited with code ${code}`);
      log(`rein: check worker failed: ${reason.message}`);
      if (!slot.ready && ++startFailures >= MAX_START_FAILURES) {
        broken = new Error(`check workers cannot start: ${reason.message}`);
        for (const job of queue.splice(0)) settle(job, () => job.reject(broken!));
        notify();
      }
      const job = slot.job;
      if (job) {
        finish(slot);
        job.reject(new Error(`check worker failed: ${reason.message}`));
      }
      dispatch();
    });
  };

  const finish = (slot: Slot): void => {
    clearTimeout(slot.abandonTimer);
    slot.abandonTimer = undefined;
    const job = slot.job;
    if (!job) return;
    job.signal.removeEventListener('abort', job.onAbort);
    slot.job = undefined;
    slot.worker.unref();
  };

  /** Terminates a worker whose task must not run on, and starts a fresh one. */
  const retire = (slot: Slot): void => {
    finish(slot);
    slot.retired = true;
    stats.terminated += 1;
    void slot.worker.terminate();
    const index = slots.indexOf(slot);
    if (index >= 0) slots.splice(index, 1);
    if (!closed) spawn();
  };

  const settle = (job: Job, action: () => void): void => {
    job.signal.removeEventListener('abort', job.onAbort);
    action();
  };

  const dispatch = (): void => {
    if (closed || broken) return;
    while (queue.length > 0) {
      const slot = slots.find((candidate) => candidate.ready && !candidate.job && !candidate.retired);
      if (!slot) {
        // The queued tasks wait for a busy worker, or for one being started here.
        if (slots.length < size) spawn();
        return;
      }
      const job = queue.shift()!;
      try {
        slot.worker.postMessage({ id: job.id, ...job.request } as WorkerRequest);
      } catch (error) {
        // Parameters that cannot be cloned: this task fails (its fail_mode applies), the worker stays free.
        settle(job, () => job.reject(new Error(`check task could not be sent to a worker: ${(error as Error).message}`)));
        continue;
      }
      slot.job = job;
      slot.worker.ref();
    }
  };

  const submit = (request: Request, signal: AbortSignal): Promise<Extract<WorkerResponse, { ok: true }>> => {
    if (closed) return Promise.reject(new Error('the check worker pool is closed'));
    if (broken) return Promise.reject(broken);
    if (signal.aborted) return Promise.reject(abortError(signal));
    return new Promise((resolve, reject) => {
      const job: Job = {
        id: nextId++,
        request,
        signal,
        resolve,
        reject,
        onAbort: () => {
          const queued = queue.indexOf(job);
          if (queued >= 0) {
            queue.splice(queued, 1);
          } else {
            const slot = slots.find((candidate) => candidate.job === job);
            if (slot && signal.reason instanceof CheckTimeoutError) {
              // Timed out while running: stop the worker (a runaway check must not keep its CPU).
              retire(slot);
            } else if (slot) {
              job.abandoned = true;
              slot.abandonTimer = setTimeout(() => {
                if (slot.job === job) retire(slot);
                dispatch();
              }, abandonedGraceMs);
              slot.abandonTimer.unref();
            }
          }
          reject(abortError(signal));
          dispatch();
        },
      };
      signal.addEventListener('abort', job.onAbort, { once: true });
      queue.push(job);
      dispatch();
    });
  };

  return {
    size,
    minChars,
    hasRoom() {
      if (closed || broken) return false;
      if (slots.length === 0) spawn();
      return queue.length < maxQueue && slots.some((slot) => slot.ready);
    },
    warm() {
      if (closed) return Promise.reject(new Error('the check worker pool is closed'));
      if (broken) return Promise.reject(broken);
      while (slots.length < size) spawn();
      return new Promise<void>((resolve, reject) => {
        waiters.push({ resolve, reject });
        notify();
      });
    },
    async runCheck(task, signal) {
      const response = await submit({ kind: 'check', task }, signal);
      if (!Array.isArray(response.results)) throw new Error(`check '${task.check}' returned no results`);
      return response.results;
    },
    async scoreConsistency(task, signal) {
      const response = await submit({ kind: 'consistency', task }, signal);
      if (!response.scoring) throw new Error('self_consistency scoring returned no result');
      return response.scoring;
    },
    stats: () => ({ workers: slots.length, busy: slots.filter((slot) => slot.job).length, queued: queue.length, ...stats }),
    async close() {
      if (closed) return;
      closed = true;
      const error = new Error('the check worker pool is closed');
      for (const job of queue.splice(0)) settle(job, () => job.reject(error));
      const running = slots.splice(0);
      for (const slot of running) {
        const job = slot.job;
        finish(slot);
        slot.retired = true;
        job?.reject(error);
      }
      notify();
      await Promise.all(running.map((slot) => slot.worker.terminate()));
    },
  };
}
