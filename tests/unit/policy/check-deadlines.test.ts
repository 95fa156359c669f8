/** createCheckDeadlines: one timer (and, when read, one signal) per distinct timeout for a batch of checks. */
import { createCheckDeadlines, type LazySignal } from '../../../src/policy/policy-engine';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('check deadlines', () => {
  test('checks with the same timeout share one signal; another timeout gets its own', async () => {
    const deadlines = createCheckDeadlines(new AbortController().signal);
    const seen: AbortSignal[] = [];
    const grab = async (lazy: LazySignal) => {
      seen.push(lazy.signal);
      return 1;
    };
    await Promise.all([deadlines.run(grab, 1000), deadlines.run(grab, 1000), deadlines.run(grab, 2000)]);
    deadlines.dispose();
    expect(seen[0]).toBe(seen[1]);
    expect(seen[2]).not.toBe(seen[0]);
    expect(seen.every((signal) => !signal.aborted)).toBe(true);
  });

  test('a check that overruns its timeout fails with a timeout and its signal is aborted; a fast one with the same timeout is unaffected', async () => {
    const deadlines = createCheckDeadlines(new AbortController().signal);
    let slowSignal: AbortSignal | undefined;
    const slow = deadlines.run(async (lazy) => {
      slowSignal = lazy.signal;
      await sleep(200);
      return 'late';
    }, 30);
    const fast = deadlines.run(async () => 'quick', 30);
    await expect(fast).resolves.toBe('quick');
    await expect(slow).rejects.toThrow(/timed out after 30 ms/);
    expect(slowSignal?.aborted).toBe(true);
    deadlines.dispose();
  });

  test('the outer signal aborts every running check with its reason, and nothing runs after it', async () => {
    const outer = new AbortController();
    const deadlines = createCheckDeadlines(outer.signal);
    const running = [1000, 2000].map((timeout) => deadlines.run((lazy) => new Promise((_, reject) => lazy.signal.addEventListener('abort', () => reject(lazy.signal.reason))), timeout));
    outer.abort(new Error('client went away'));
    for (const run of running) await expect(run).rejects.toThrow('client went away');
    await expect(deadlines.run(async () => 1, 1000)).rejects.toThrow('client went away');
    deadlines.dispose();
  });

  test('after dispose a passed deadline rejects nobody (no unhandled rejection) and new runs are refused', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const deadlines = createCheckDeadlines(new AbortController().signal);
      await deadlines.run(async () => 1, 20);
      deadlines.dispose();
      await sleep(60);
      expect(unhandled).toEqual([]);
      await expect(deadlines.run(async () => 1, 20)).rejects.toThrow(/disposed/);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  test('a signal first read after the deadline passed is already aborted with the timeout; a check that never reads it still times out', async () => {
    const deadlines = createCheckDeadlines(new AbortController().signal);
    let late: LazySignal | undefined;
    const neverReads = deadlines.run(async (lazy) => {
      late = lazy;
      await sleep(100);
      return 'late';
    }, 20);
    await expect(neverReads).rejects.toThrow(/timed out after 20 ms/);
    expect(late!.signal.aborted).toBe(true);
    expect(String(late!.signal.reason)).toMatch(/timed out after 20 ms/);
    deadlines.dispose();
  });
});
