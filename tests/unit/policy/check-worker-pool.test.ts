/** @jest-environment ./tests/unit/onnx/onnx-test-environment.js */
/**
 * The check worker pool (issue 11) with real worker threads: offloaded checks give the same findings as
 * inline ones, a timed-out offloaded check fails by its fail_mode and its worker is replaced, the event
 * loop keeps running while a worker scans, and close() ends the threads.
 */
import { loadBuiltinChecks } from '../../../src/policy/builtin-checks';
import { withOffload, type CheckRegistry } from '../../../src/policy/check-registry';
import { createCheckWorkerPool, type CheckWorkerPool } from '../../../src/policy/check-worker-pool';
import { compilePolicy } from '../../../src/policy/compile-policy';
import { runInputChecks, runOutputChecks, type OutputRunContext } from '../../../src/policy/policy-engine';
import type { Finding } from '../../../src/safety/finding';
import type { Policy } from '../../../src/policy/policy-types';
import { mulberry32 } from '../../../src/util/mulberry32';
import { SPECIAL_TEXTS } from './fixtures/check-texts';

const KEY = 'offload-test-key-0123456789';
const WORDS = ('the of and to in is that for it as was with be by on not this are or from at which but have an they you were all ' +
  'there would their we been has when who will more no if out so what up about into than them can only other new some could time ' +
  'these two may then first any now such like over even most made after also did many before must through back years where much').split(' ');
const SPECIAL = SPECIAL_TEXTS;

/** Deterministic prose with the special lines above sprinkled in (about one line in six). */
function longText(chars: number, seed: number): string {
  const random = mulberry32(seed);
  const lines: string[] = [];
  let length = 0;
  while (length < chars) {
    const line = random() < 0.16
      ? SPECIAL[Math.floor(random() * SPECIAL.length)]
      : Array.from({ length: 6 + Math.floor(random() * 14) }, () => WORDS[Math.floor(random() * WORDS.length)]).join(' ') + '.';
    lines.push(line);
    length += line.length + 1;
  }
  return lines.join('\n').slice(0, chars);
}

const strip = (findings: Finding[]) => findings.map(({ durationMs: _duration, ...rest }) => rest);

let registry: CheckRegistry;
let pool: CheckWorkerPool;
let offloaded: CheckRegistry;

function policy(text: string): Policy {
  const result = compilePolicy({ name: 'offload', text }, { registry, lookup: () => undefined });
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.policy;
}

const signal = () => new AbortController().signal;

beforeAll(async () => {
  registry = loadBuiltinChecks({ redactionKey: KEY, log: () => undefined });
  pool = createCheckWorkerPool({ checks: { redactionKey: KEY }, workers: 1, minChars: 4096 });
  offloaded = withOffload(registry, pool);
  await pool.warm();
});

afterAll(async () => {
  await pool.close();
});

describe('offloaded checks give the same findings as inline ones', () => {
  const INPUT_ENTRIES: Record<string, string> = {
    unicode: 'action: sanitize',
    obfuscation: 'action: flag',
    prompt_injection: 'action: block',
    jailbreak: 'action: block',
    adversarial_suffix: 'action: flag',
    backdoor_trigger: 'action: flag',
    pii: 'action: redact\n    redaction: hash',
    secrets: 'action: redact',
    blocklist: 'action: flag\n    terms: [forbidden term, kill]',
    regex: 'action: redact\n    rules: [{ name: ticket, pattern: "TCK-\\\\d{4,8}" }]',
    length: 'action: flag\n    max_chars: 5000',
    language: 'action: flag\n    allowed: [de]',
  };

  test.each(Object.keys(INPUT_ENTRIES))('input check %s on 6,000 characters', async (check) => {
    const text = longText(6000, check.length * 7919);
    const entryPolicy = policy(`input:\n  - check: ${check}\n    applies_to: [user, context]\n    timeout_ms: 60000\n    ${INPUT_ENTRIES[check]}\n`);
    const parts = { messages: [{ role: 'user' as const, content: text }], context: [longText(5000, 99)] };
    const before = pool.stats().completed;
    const inline = await runInputChecks(entryPolicy, parts, registry, signal());
    const remote = await runInputChecks(entryPolicy, parts, offloaded, signal());
    expect(pool.stats().completed).toBeGreaterThanOrEqual(before + 2); // both parts went to the worker
    expect(inline.findings.filter((finding) => finding.verdict === 'error').map((finding) => finding.error)).toEqual([]);
    expect(strip(remote.findings)).toEqual(strip(inline.findings));
    expect(remote.sanitizedParts).toEqual(inline.sanitizedParts);
    expect(remote.decision).toBe(inline.decision);
  });

  test('the redaction key is shared: hash tokens match (and differ from another key)', async () => {
    const text = longText(8000, 5);
    const entryPolicy = policy('input:\n  - check: pii\n    action: redact\n    redaction: hash\n');
    const inline = await runInputChecks(entryPolicy, { prompt: text }, registry, signal());
    const remote = await runInputChecks(entryPolicy, { prompt: text }, offloaded, signal());
    expect(inline.sanitizedParts.prompt).toMatch(/\[EMAIL:[0-9a-f]{8}\]/);
    expect(remote.sanitizedParts.prompt).toBe(inline.sanitizedParts.prompt);
    const other = loadBuiltinChecks({ redactionKey: 'another-key-0123456789', log: () => undefined });
    const different = await runInputChecks(entryPolicy, { prompt: text }, other, signal());
    expect(different.sanitizedParts.prompt).not.toBe(inline.sanitizedParts.prompt);
  });

  test('without a configured key the main thread passes its per-process key on', async () => {
    const keyless = loadBuiltinChecks({ log: () => undefined });
    const keylessPool = createCheckWorkerPool({ checks: {}, workers: 1, minChars: 1000 });
    try {
      await keylessPool.warm();
      const entryPolicy = policy('input:\n  - check: pii\n    action: redact\n    redaction: hash\n');
      const text = longText(4000, 6);
      const inline = await runInputChecks(entryPolicy, { prompt: text }, keyless, signal());
      const remote = await runInputChecks(entryPolicy, { prompt: text }, withOffload(keyless, keylessPool), signal());
      expect(keylessPool.stats().completed).toBe(1);
      expect(remote.sanitizedParts.prompt).toBe(inline.sanitizedParts.prompt);
    } finally {
      await keylessPool.close();
    }
  });

  const OUTPUT_CASES: Array<[string, string, () => OutputRunContext]> = [
    ['self_consistency with caller samples', 'check: self_consistency\n    select_best: true', () => ({ samples: [0, 1, 2, 3].map((index) => longText(3000, 40 + index)) })],
    ['self_consistency (ngram)', 'check: self_consistency\n    variant: ngram\n    ngram_n: 3', () => ({ samples: [0, 1, 2].map((index) => longText(3000, 50 + index)) })],
    ['vote with caller samples', 'check: vote', () => ({ samples: ['Paris.', 'paris', 'Lyon', 'Paris'] })],
    ['grounding', 'check: grounding\n    nli: false', () => ({ sources: [longText(5000, 60), longText(3000, 61)] })],
    ['pii on the output', 'check: pii\n    redaction: hash', () => ({})],
  ];

  test.each(OUTPUT_CASES)('output check: %s', async (_name, entry, context) => {
    const output = longText(5000, 70);
    const entryPolicy = policy(`output:\n  - ${entry}\n    action: flag\n    timeout_ms: 60000\n`);
    const before = pool.stats().completed;
    const inline = await runOutputChecks(entryPolicy, output, context(), registry, signal());
    const remote = await runOutputChecks(entryPolicy, output, context(), offloaded, signal());
    expect(pool.stats().completed).toBe(before + 1);
    expect(inline.findings.every((finding) => finding.verdict !== 'error')).toBe(true);
    expect(strip(remote.findings)).toEqual(strip(inline.findings));
    expect(remote.sanitizedOutput).toBe(inline.sanitizedOutput);
  });

  test('self_consistency drawing its samples: drawn on the main thread, scored on the worker, same result', async () => {
    const output = longText(3000, 80);
    const draws: Array<[number, number]> = [];
    const context = (): OutputRunContext => ({
      drawSamples: async (count, temperature) => {
        draws.push([count, temperature]);
        return Array.from({ length: count }, (_, index) => longText(3000, 90 + index));
      },
    });
    const entryPolicy = policy('output:\n  - check: self_consistency\n    action: flag\n    samples: 3\n    temperature: 0.7\n    timeout_ms: 60000\n');
    const before = pool.stats().completed;
    const inline = await runOutputChecks(entryPolicy, output, context(), registry, signal());
    const remote = await runOutputChecks(entryPolicy, output, context(), offloaded, signal());
    expect(draws).toEqual([[3, 0.7], [3, 0.7]]);
    expect(pool.stats().completed).toBe(before + 1);
    // Drawn here: the most consistent candidate is selected by default (the check's own rule).
    expect(inline.findings[0].details?.most_consistent_sample).toBeDefined();
    expect(strip(remote.findings)).toEqual(strip(inline.findings));
  });

  test('short texts stay inline', async () => {
    const entryPolicy = policy('input:\n  - check: pii\n    action: redact\n');
    const before = pool.stats().completed;
    const outcome = await runInputChecks(entryPolicy, { prompt: 'mail me at a@example.org' }, offloaded, signal());
    expect(outcome.sanitizedParts.prompt).toBe('mail me at [EMAIL]');
    expect(pool.stats().completed).toBe(before);
  });

  test('errors inside the worker come back as the check error (fail_mode applies)', async () => {
    const entryPolicy = policy('output:\n  - check: grounding\n    action: block\n');
    const inline = await runOutputChecks(entryPolicy, longText(5000, 3), {}, registry, signal());
    const remote = await runOutputChecks(entryPolicy, longText(5000, 3), {}, offloaded, signal());
    expect(inline.findings[0]).toMatchObject({ verdict: 'error', action: 'block' });
    expect(strip(remote.findings)).toEqual(strip(inline.findings));
  });
});

describe('timeouts, responsiveness, close', () => {
  test('a timed-out offloaded check yields its fail_mode finding; its worker is replaced and the next task succeeds', async () => {
    const own = createCheckWorkerPool({ checks: { redactionKey: KEY }, workers: 1, minChars: 1000 });
    try {
      const checks = withOffload(registry, own);
      expect(own.hasRoom()).toBe(false); // no worker has loaded yet: the engine would run inline
      await own.warm();
      expect(own.hasRoom()).toBe(true);
      expect(own.stats()).toMatchObject({ started: 1, completed: 0 });

      const huge = longText(3_000_000, 2);
      const closed = policy('input:\n  - check: language\n    allowed: [de]\n    action: flag\n    timeout_ms: 5\n');
      const outcome = await runInputChecks(closed, { prompt: huge }, checks, signal());
      expect(outcome.findings).toEqual([expect.objectContaining({ check: 'language', verdict: 'error', action: 'flag', score: 1, error: 'timed out after 5 ms' })]);
      expect(own.stats()).toMatchObject({ terminated: 1, started: 2, completed: 0 });
      await own.warm(); // the replacement

      const open = policy('input:\n  - check: language\n    allowed: [de]\n    action: block\n    fail_mode: open\n    timeout_ms: 5\n');
      const skipped = await runInputChecks(open, { prompt: huge }, checks, signal());
      expect(skipped.findings).toEqual([expect.objectContaining({ verdict: 'error', action: 'allow' })]);
      expect(skipped.decision).toBe('allow');
      expect(own.stats()).toMatchObject({ terminated: 2, started: 3 });
      await own.warm();

      const next = policy('input:\n  - check: pii\n    action: redact\n');
      const text = `${longText(3000, 4)}\nwrite to someone@example.com`;
      const after = await runInputChecks(next, { prompt: text }, checks, signal());
      expect(after.findings.some((finding) => finding.check === 'pii.email' && finding.verdict === 'fail')).toBe(true);
      expect(own.stats()).toMatchObject({ completed: 1, crashed: 0, started: 3 });
    } finally {
      await own.close();
    }
  });

  test('a running task abandoned by its request finishes on its worker; past the grace period its worker is replaced', async () => {
    const task = { check: 'language', stage: 'input' as const, text: longText(2_000_000, 13), role: 'user' as const, params: { allowed: ['en'] } };
    const small = { check: 'length', stage: 'input' as const, text: 'short', role: 'user' as const, params: { max_chars: 100 } };
    const patient = createCheckWorkerPool({ checks: { redactionKey: KEY }, workers: 1, minChars: 100, abandonedGraceMs: 600_000 });
    const impatient = createCheckWorkerPool({ checks: { redactionKey: KEY }, workers: 1, minChars: 100, abandonedGraceMs: 0 });
    try {
      await Promise.all([patient.warm(), impatient.warm()]);
      for (const own of [patient, impatient]) {
        const request = new AbortController();
        const abandoned = own.runCheck(task, request.signal);
        request.abort(new Error('client went away'));
        await expect(abandoned).rejects.toThrow('client went away');
        // The next task waits for the worker: the abandoned one's, or its replacement.
        await expect(own.runCheck(small, signal())).resolves.toEqual([expect.objectContaining({ score: expect.any(Number) })]);
      }
      expect(patient.stats()).toMatchObject({ started: 1, terminated: 0, completed: 2 });
      expect(impatient.stats()).toMatchObject({ started: 2, terminated: 1, completed: 1 });
    } finally {
      await Promise.all([patient.close(), impatient.close()]);
    }
  });

  test('the event loop keeps running while a worker scans 200 kB', async () => {
    const entryPolicy = policy('input:\n  - check: pii\n    action: redact\n  - check: language\n    allowed: [en]\n    action: flag\n');
    await runInputChecks(entryPolicy, { prompt: longText(5000, 8) }, offloaded, signal()); // worker up
    let ticksWhileBusy = 0;
    const timer = setInterval(() => {
      if (pool.stats().busy > 0) ticksWhileBusy += 1;
    }, 1);
    try {
      const outcome = await runInputChecks(entryPolicy, { prompt: longText(200_000, 9) }, offloaded, signal());
      expect(outcome.findings.some((finding) => finding.check === 'pii.email')).toBe(true);
    } finally {
      clearInterval(timer);
    }
    expect(ticksWhileBusy).toBeGreaterThan(0);
  });

  test('close() terminates the workers; later tasks are refused and the engine runs inline', async () => {
    const own = createCheckWorkerPool({ checks: { redactionKey: KEY }, workers: 2, minChars: 100 });
    const checks = withOffload(registry, own);
    await own.warm();
    const entryPolicy = policy('input:\n  - check: secrets\n    action: redact\n');
    const parts = { messages: [{ role: 'user' as const, content: longText(3000, 10) }, { role: 'user' as const, content: longText(3000, 11) }] };
    await runInputChecks(entryPolicy, parts, checks, signal());
    expect(own.stats()).toMatchObject({ workers: 2, started: 2, completed: 2 });
    await own.close();
    expect(own.stats()).toMatchObject({ workers: 0, exited: 2 });
    await expect(own.runCheck({ check: 'length', stage: 'input', text: 'x', role: 'user', params: {} }, signal())).rejects.toThrow(/closed/);
    expect(own.hasRoom()).toBe(false);
    const inline = await runInputChecks(entryPolicy, parts, checks, signal());
    expect(inline.findings.every((finding) => finding.verdict !== 'error')).toBe(true);
  });

  test('a full queue has no room (the engine then runs inline); an aborted queued task leaves the queue without a restart', async () => {
    const own = createCheckWorkerPool({ checks: { redactionKey: KEY }, workers: 1, maxQueue: 1, minChars: 100 });
    try {
      await own.warm();
      const task = { check: 'language', stage: 'input' as const, text: longText(300_000, 12), role: 'user' as const, params: { allowed: ['en'] } };
      const running = own.runCheck(task, signal());
      expect(own.hasRoom()).toBe(true);
      const abort = new AbortController();
      const queued = own.runCheck(task, abort.signal);
      expect(own.stats()).toMatchObject({ busy: 1, queued: 1 });
      expect(own.hasRoom()).toBe(false);
      abort.abort(new Error('client went away'));
      await expect(queued).rejects.toThrow('client went away');
      expect(own.stats()).toMatchObject({ queued: 0, terminated: 0 });
      expect(own.hasRoom()).toBe(true);
      await expect(running).resolves.toEqual([expect.objectContaining({ score: expect.any(Number) })]);
      expect(own.stats()).toMatchObject({ completed: 1, started: 1 });
    } finally {
      await own.close();
    }
  });

  test('a task that cannot be sent fails alone; the worker stays usable', async () => {
    const bad = { check: 'length', stage: 'input' as const, text: 'x', role: 'user' as const, params: { max_chars: 5, hook: () => 1 } };
    await expect(pool.runCheck(bad, signal())).rejects.toThrow(/could not be sent/);
    expect(pool.stats()).toMatchObject({ busy: 0, queued: 0 });
    await expect(pool.runCheck({ ...bad, params: { max_chars: 5 } }, signal())).resolves.toHaveLength(1);
  });

  test('options that are not plain data are refused', () => {
    expect(() => createCheckWorkerPool({ checks: { detectorOptions: { scorer: () => 0 } } })).toThrow(/plain data/);
  });
});
