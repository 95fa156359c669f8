/**
 * The entry of a check worker thread (see check-worker-pool.ts). It builds its own registry with
 * loadBuiltinChecks from the options the pool was given (plain data), so a check here computes exactly
 * what the same check computes on the main thread, then answers tasks one at a time:
 *   { id, kind: 'check', task: CheckTask }              → { id, ok, results: DetectorResult[] }
 *   { id, kind: 'consistency', task: ConsistencyScoringTask } → { id, ok, scoring: ConsistencyScoring }
 * Failures come back as { id, ok: false, error } with the error's message (what the engine reports).
 * Aborts never reach a worker: the pool terminates a worker whose task was abandoned.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { DetectorContext, OutputCheckContext } from '../safety/detector';
import { scoreConsistencyTask, type ConsistencyScoringTask } from '../safety/checks/self-consistency-check';
import { loadBuiltinChecks, type BuiltinCheckOptions } from './builtin-checks';
import type { CheckTask, WorkerRequest, WorkerResponse } from './check-worker-protocol';

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function start(): void {
  const port = parentPort;
  if (!port) return;
  const data = workerData as { options: BuiltinCheckOptions };
  const options = { ...data.options };
  // A Buffer key arrives as a Uint8Array (structured clone).
  if (options.redactionKey instanceof Uint8Array && !Buffer.isBuffer(options.redactionKey)) options.redactionKey = Buffer.from(options.redactionKey);
  const problems: string[] = [];
  const registry = loadBuiltinChecks({ ...options, log: (message) => problems.push(message) });
  const signal = new AbortController().signal;

  const runCheck = async (task: CheckTask) => {
    const info = registry.get(task.check);
    if (!info || info.missing) throw new Error(`check '${task.check}' is not installed in this build${problems.length ? ` (${problems.join('; ')})` : ''}`);
    const base: DetectorContext = { role: task.role, params: task.params, signal };
    if (task.stage === 'output' && info.outputCheck) {
      const context: OutputCheckContext = { ...base, input: task.input, samples: task.samples, sources: task.sources };
      return info.outputCheck.check(task.text, context);
    }
    if (!info.detector) throw new Error(`check '${task.check}' has no ${task.stage} implementation`);
    return info.detector.detect(task.text, base);
  };

  port.on('message', async (request: WorkerRequest) => {
    let response: WorkerResponse;
    try {
      response = request.kind === 'check'
        ? { id: request.id, ok: true, results: await runCheck(request.task) }
        : { id: request.id, ok: true, scoring: await scoreConsistencyTask(request.task as ConsistencyScoringTask, signal) };
    } catch (error) {
      response = { id: request.id, ok: false, error: messageOf(error) };
    }
    try {
      port.postMessage(response);
    } catch (error) {
      // A result that cannot be cloned (a check returned something other than plain data).
      port.postMessage({ id: request.id, ok: false, error: `check result could not be sent from the worker: ${messageOf(error)}` } satisfies WorkerResponse);
    }
  });
  port.postMessage({ ready: true } satisfies WorkerResponse);
}

start();
