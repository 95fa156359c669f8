/** @jest-environment ./tests/unit/onnx/onnx-test-environment.js */
/**
 * `rein bench serve` on the tiny model: the SPEC.md §6 JSON shape, every request answered, and bad
 * arguments refused with exit 2. (Speed itself is the bench's job, never a unit test's.)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { run, runServeBench } from '../../../src/bench/serve-bench';
import { TINY_LLAMA } from './backend-helpers';

describe('rein bench serve', () => {
  test('reports each concurrency level in the SPEC shape', async () => {
    const result = await runServeBench({ modelDir: TINY_LLAMA, concurrency: [1, 3], maxTokens: 4, requestsPerClient: 2, maxBatch: 2 });
    expect(result.model).toBe('tiny-llama');
    expect(result.bare_tokens_per_s).toBeGreaterThan(0);
    expect(result.levels.map((level) => level.concurrency)).toEqual([1, 3]);
    for (const level of result.levels) {
      // At least 16 requests per level, and at least 2 per client.
      expect(level.requests).toBe(level.concurrency * Math.max(2, Math.ceil(16 / level.concurrency)));
      expect(level.completion_tokens).toBeGreaterThan(0);
      expect(level.completion_tokens).toBeLessThanOrEqual(level.requests * 4);
      expect(level.tokens_per_s).toBeGreaterThan(0);
      expect(level.ttft_ms_p99).toBeGreaterThanOrEqual(level.ttft_ms_p50);
    }
  });

  test('--duration: a fixed window per level, requests still running at its end cancelled', async () => {
    const result = await runServeBench({ modelDir: TINY_LLAMA, concurrency: [3], maxTokens: 400, requestsPerClient: 1, durationS: 1, maxBatch: 4 });
    const [level] = result.levels;
    expect(result.duration_s).toBe(1);
    expect(level.wall_s).toBe(1);
    expect(level.completion_tokens).toBeGreaterThan(0);
    // Three clients all through the window: steps were shared, never by more than three rows.
    expect(level.rows_per_step).toBeGreaterThan(1);
    expect(level.rows_per_step).toBeLessThanOrEqual(3);
    expect(level.tokens_per_s).toBeCloseTo(level.completion_tokens, 0);
  });

  test('--rounds: each level measured in several windows, levels taking turns, figures from the median window', async () => {
    const result = await runServeBench({ modelDir: TINY_LLAMA, concurrency: [1, 2], maxTokens: 400, requestsPerClient: 1, durationS: 0.3, rounds: 3, maxBatch: 2 });
    expect(result.rounds).toBe(3);
    expect(result.levels.map((level) => level.concurrency)).toEqual([1, 2]);
    for (const level of result.levels) {
      const windows = level.tokens_per_s_rounds!;
      expect(windows).toHaveLength(3);
      expect(windows.every((value) => value > 0)).toBe(true);
      // The reported window is the median one: its tokens/s is the middle of the three.
      expect(level.tokens_per_s).toBe([...windows].sort((a, b) => a - b)[1]);
    }
  });

  test('writes --out and refuses bad arguments', async () => {
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'rein-serve-')), 'serve.json');
    const write = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const writeError = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(await run(['--model', TINY_LLAMA, '--concurrency', '2', '--max-tokens', '3', '--requests', '1', '--out', out])).toBe(0);
      const written = JSON.parse(fs.readFileSync(out, 'utf8'));
      expect(Object.keys(written)).toEqual(expect.arrayContaining(['model', 'bare_tokens_per_s', 'levels']));
      expect(Object.keys(written.levels[0])).toEqual(expect.arrayContaining(['concurrency', 'tokens_per_s', 'ttft_ms_p50', 'ttft_ms_p99']));
      expect(written.duration_s).toBeUndefined();
      // Without --requests, each level is a fixed window.
      expect(await run(['--model', TINY_LLAMA, '--concurrency', '2', '--max-tokens', '3', '--duration', '0.3', '--out', out])).toBe(0);
      expect(JSON.parse(fs.readFileSync(out, 'utf8')).duration_s).toBe(0.3);
      expect(JSON.parse(fs.readFileSync(out, 'utf8')).worker_sampling).toBe(true);
      expect(await run(['--model', TINY_LLAMA, '--concurrency', '2', '--max-tokens', '3', '--duration', '0.3', '--worker-sampling', 'off', '--out', out])).toBe(0);
      expect(JSON.parse(fs.readFileSync(out, 'utf8')).worker_sampling).toBe(false);
      expect(await run(['--concurrency', 'many'])).toBe(2);
      expect(await run(['--unknown'])).toBe(2);
      expect(await run(['--model', TINY_LLAMA, '--executor', 'gpu'])).toBe(2);
      expect(await run(['--model', TINY_LLAMA, '--duration', '0'])).toBe(2);
      expect(await run(['--model', TINY_LLAMA, '--duration', '1', '--requests', '2'])).toBe(2);
      expect(await run(['--model', TINY_LLAMA, '--spinning', 'maybe'])).toBe(2);
      expect(await run(['--model', TINY_LLAMA, '--worker-sampling', 'yes'])).toBe(2);
      expect(await run(['--model', TINY_LLAMA, '--prefill-lane', '1'])).toBe(2);
      expect(await run(['--model', TINY_LLAMA, '--rounds', '0'])).toBe(2);
      expect(await run(['--model', TINY_LLAMA, '--rounds', '3', '--requests', '2'])).toBe(2);
    } finally {
      write.mockRestore();
      writeError.mockRestore();
    }
  });
});
