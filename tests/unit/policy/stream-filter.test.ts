import { createStreamFilter } from '../../../src/policy/stream-filter';
import { checkText } from '../../../src/policy/check-text';
import { createBuiltinFilters } from '../../../src/safety/filters';
import { createCheckRegistry } from '../../../src/policy/check-registry';
import { policyFrom, testRegistry } from './policy-fixtures';

const registry = testRegistry();
const redactPolicy = policyFrom(`
output:
  - check: pii
    action: redact
  - check: secrets
    action: redact
  - check: blocklist
    terms: [forbidden phrase]
    action: redact
  - check: pii
    entities: [ssn]
    action: flag
`);

async function stream(text: string, cuts: number[], policy = redactPolicy) {
  const filter = createStreamFilter(policy, registry);
  let out = '';
  let previous = 0;
  for (const cut of [...cuts, text.length]) {
    out += filter.push(text.slice(previous, cut));
    previous = cut;
  }
  const result = await filter.end();
  return { streamed: out, result, all: out + result.text };
}

describe('stream filter', () => {
  const phoneText = 'Call me at +1 (415) 555-2671 tomorrow, or 020 7946 0958 after six.';

  test('a phone number split at every point across two deltas never leaks', async () => {
    const expected = (await checkText({ output: phoneText }, redactPolicy, registry, new AbortController().signal)).sanitized_output;
    expect(expected).toBe('Call me at [PHONE] tomorrow, or [PHONE] after six.');
    for (let cut = 0; cut <= phoneText.length; cut++) {
      const { streamed, result, all } = await stream(phoneText, [cut]);
      expect(all).toBe(expected);
      expect(result.emitted).toBe(expected);
      for (const leak of ['555', '2671', '7946', '0958']) expect(streamed).not.toContain(leak);
    }
  });

  test('token by token (one character per delta) never leaks either', async () => {
    const text = `Reach jane.doe@example.org, card 4111 1111 1111 1111, key AKIAIOSFODNN7EXAMPLE. ${phoneText} ${'More words. '.repeat(10)}`;
    const cuts = Array.from({ length: text.length }, (_, index) => index);
    const { streamed, all } = await stream(text, cuts);
    for (const leak of ['jane', '4111', 'AKIA', '2671', '0958']) expect(all).not.toContain(leak);
    expect(all).toBe(`Reach [EMAIL], card [CARD], key [AWS_KEY]. Call me at [PHONE] tomorrow, or [PHONE] after six. ${'More words. '.repeat(10)}`);
    expect(streamed.length).toBeGreaterThan(0);
  });

  test('every two-way split of a text with a private key block and a blocklisted phrase', async () => {
    const text = 'Here:\n-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\nand a forbidden  phrase.';
    for (let cut = 0; cut <= text.length; cut += 3) {
      const { streamed, all } = await stream(text, [cut]);
      expect(streamed).not.toContain('MIIE');
      expect(streamed).not.toContain('forbidden');
      expect(all).toBe('Here:\n[PRIVATE_KEY]\nand a [BLOCKED].');
    }
  });

  test('text far from any match streams early', async () => {
    const text = 'word '.repeat(200);
    const filter = createStreamFilter(redactPolicy, registry);
    const first = filter.push(text);
    expect(first.length).toBeGreaterThan(text.length - 400);
    expect(first + (await filter.end()).text).toBe(text);
  });

  test('a block match stops the stream, and end() says block with the refusal', async () => {
    const policy = policyFrom('refusal: No.\noutput:\n  - check: blocklist\n    terms: [launch codes]\n    action: block\n');
    const text = 'Sure, the launch codes are 1234. More text follows here.';
    for (let cut = 0; cut <= text.length; cut++) {
      const { streamed, result } = await stream(text, [cut], policy);
      expect(streamed).not.toContain('launch');
      expect(result.decision).toBe('block');
      expect(result.refusal).toBe('No.');
      expect(result.text).toBe('');
    }
  });

  test('a whole-output check that can block makes the stream buffer', async () => {
    const policy = policyFrom('output:\n  - check: pii\n    action: redact\n  - check: self_consistency\n    action: block\n');
    const filter = createStreamFilter(policy, registry);
    expect(filter.buffered).toBe(true);
    expect(filter.push('Write to jane@example.org ')).toBe('');
    expect(filter.push('and more')).toBe('');
    const result = await filter.end();
    expect(result).toMatchObject({ buffered: true, text: 'Write to [EMAIL] and more', decision: 'redact' });
  });

  test('a flag-only whole-output check does not buffer', () => {
    const policy = policyFrom('output:\n  - check: self_consistency\n    action: flag\n');
    expect(createStreamFilter(policy, registry).buffered).toBe(false);
  });

  test('length limit on a stream never emits past the limit', async () => {
    const policy = policyFrom('output:\n  - check: length\n    max_chars: 20\n    action: sanitize\n');
    const text = 'abcdefghij'.repeat(5);
    const { streamed, all } = await stream(text, [5, 15, 25, 35], policy);
    expect(streamed.length).toBeLessThanOrEqual(20);
    expect(all).toBe(text.slice(0, 20));
  });
});

describe('stream filter: secrets assigned over several deltas', () => {
  test('the value of a password assignment never leaks, at any split', async () => {
    const text = 'Set password = "Tr0ub4dor&3xyz" in the config, then restart.';
    for (let cut = 0; cut <= text.length; cut++) {
      const { streamed, all } = await stream(text, [cut]);
      expect(streamed).not.toContain('Tr0ub');
      expect(all).toBe('Set password = "[SECRET]" in the config, then restart.');
    }
  });
});

describe('stream filter: randomised deltas', () => {
  function seeded(seed: number): () => number {
    let state = seed >>> 0;
    return () => {
      state = (state * 1664525 + 1013904223) >>> 0;
      return state / 4294967296;
    };
  }
  const pieces = [
    'Hello there. ', 'jane.doe@example.org', ' or ', '+44 20 7946 0958', ', card ', '4111 1111 1111 1111', '; ',
    'IBAN GB82 WEST 1234 5698 7654 32', ' and ', 'ghp_16C7e42F292c6912E7710c838347Ae178B4a', ' then ',
    '123-45-6789', ' at 10.0.0.12. ', 'Version 2.10.3 ships 2024-01-15 in room 1204. ', 'forbidden phrase', '\n',
  ];
  const secrets = ['jane.doe', '7946', '4111', 'WEST', 'ghp_', '6789', '10.0.0.12', 'forbidden'];

  test('200 random texts, each cut into random deltas: output equals the non-streamed result and never leaks', async () => {
    const random = seeded(20261128);
    for (let round = 0; round < 200; round++) {
      const text = Array.from({ length: 3 + Math.floor(random() * 8) }, () => pieces[Math.floor(random() * pieces.length)]).join(' ');
      const cuts: number[] = [];
      for (let position = 0; position < text.length; position += 1 + Math.floor(random() * 12)) cuts.push(position);
      const { streamed, all } = await stream(text, cuts);
      const expected = (await checkText({ output: text }, redactPolicy, registry, new AbortController().signal)).sanitized_output;
      expect(all).toBe(expected);
      for (const secret of secrets) expect(streamed).not.toContain(secret);
    }
  });
});

describe('stream filter: cost per token', () => {
  test('a long answer in small deltas is scanned every few tokens, not on every token, and still streams', async () => {
    const filters = createBuiltinFilters({ redactionKey: 'test-key' });
    const secrets = filters.find((filter) => filter.id === 'secrets')!;
    let scans = 0;
    let scanned = 0;
    const counting = { ...secrets, scan: (text: string, params: Record<string, unknown>) => {
      scans++;
      scanned += text.length;
      return secrets.scan(text, params);
    } };
    const registry = createCheckRegistry({ detectors: [counting], outputChecks: [counting] });
    const policy = policyFrom('output:\n  - check: secrets\n    action: redact\n', registry);
    const filter = createStreamFilter(policy, registry);
    const deltas = Array.from({ length: 200 }, () => ' word');
    let streamed = '';
    let firstAt = -1;
    for (const [index, delta] of deltas.entries()) {
      const out = filter.push(delta);
      if (out && firstAt < 0) firstAt = index;
      streamed += out;
    }
    const pushScans = scans;
    const pushScanned = scanned;
    const result = await filter.end();
    expect(streamed + result.text).toBe(deltas.join(''));
    // Text leaves during the stream: the first release comes after the window (~100 characters) plus one release step.
    expect(firstAt).toBeGreaterThan(0);
    expect(firstAt).toBeLessThan(40);
    expect(streamed.length).toBeGreaterThan(1000 - 200);
    // One scan per delta would be ~180 scans over ~240 characters each; a scan per release step is a few dozen.
    expect(pushScans).toBeLessThan(50);
    expect(pushScanned / 1000).toBeLessThan(12);
  });
});
