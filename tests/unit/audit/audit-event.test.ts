/**
 * buildAuditEvent: schema version and OpenTelemetry attribute names, the three audit levels, redaction
 * on a copy that records what it removed but never the removed values.
 */
import { createHash } from 'node:crypto';
import { buildAuditEvent, AUDIT_SCHEMA_VERSION, type AuditEventFields } from '../../../src/audit/audit-event';
import { redactAuditText } from '../../../src/audit/redact-audit-text';
import type { Finding } from '../../../src/safety/finding';

const EMAIL = 'jane@example.org';
const PROMPT = `Mail ${EMAIL} about card 4111 1111 1111 1111 now`;

function emailFinding(overrides: Partial<Finding> = {}): Finding {
  const start = PROMPT.indexOf(EMAIL);
  return {
    check: 'pii.email', stage: 'input', verdict: 'fail', action: 'redact', enforced: true, score: 1,
    explanation: `found ${EMAIL}`, spans: [[start, start + EMAIL.length]], source: 'prompt', details: { value: EMAIL, kind: 'email' },
    ...overrides,
  };
}

function cardFinding(): Finding {
  const start = PROMPT.indexOf('4111');
  return { check: 'pii.payment_card', stage: 'input', verdict: 'fail', action: 'flag', enforced: false, score: 0.9, explanation: 'card number', spans: [[start, start + 19]], source: 'prompt' };
}

function fields(findings: Finding[]): AuditEventFields {
  return {
    requestId: 'req_1', time: '2026-01-02T03:04:05.000Z', apiKeyId: 'key_a', route: '/v1/chat/completions', operation: 'chat',
    model: 'rein-demo', backend: 'onnx', decoding: { temperature: 0, topP: 1, seed: 42, maxTokens: 16, n: 1, stop: ['\n'], minP: 0 },
    constraint: { type: 'json_schema', hash: 'sha256:c0ffee' }, policy: { name: 'default', revision: 'sha256:abc' },
    findings, decision: 'redact', status: 200, timingsMs: { input: 1.5, generate: 20 }, usage: { inputTokens: 12, outputTokens: 7 },
    finishReasons: ['stop'],
    input: [{ source: 'prompt', text: PROMPT }, { source: 'context/0', text: 'a grounding document' }],
    output: [{ source: 'choices/0', text: `Reply to ${EMAIL}` }],
  };
}

describe('buildAuditEvent', () => {
  test('carries the schema version, OpenTelemetry gen_ai attribute names, policy, timings and usage', () => {
    const event = buildAuditEvent(fields([]), 'full');
    expect(event.schema_version).toBe(AUDIT_SCHEMA_VERSION);
    expect(event).toEqual(expect.objectContaining({ request_id: 'req_1', time: '2026-01-02T03:04:05.000Z', api_key_id: 'key_a', decision: 'redact', audit_level: 'full' }));
    expect(event.attributes).toEqual({
      'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'rein-demo', 'gen_ai.request.temperature': 0, 'gen_ai.request.top_p': 1,
      'gen_ai.request.max_tokens': 16, 'gen_ai.request.seed': 42, 'gen_ai.request.stop_sequences': ['\n'], 'gen_ai.request.choice.count': 1,
      'gen_ai.response.finish_reasons': ['stop'], 'gen_ai.usage.input_tokens': 12, 'gen_ai.usage.output_tokens': 7,
      'http.route': '/v1/chat/completions', 'http.response.status_code': 200, 'rein.backend': 'onnx', 'rein.request.min_p': 0,
      'rein.constraint.type': 'json_schema', 'rein.constraint.hash': 'sha256:c0ffee',
    });
    expect(event.policy).toEqual({ name: 'default', revision: 'sha256:abc' });
    expect(event.timings_ms).toEqual({ input: 1.5, generate: 20 });
    expect(event.input).toEqual({ level: 'full', parts: [{ source: 'prompt', text: PROMPT }, { source: 'context/0', text: 'a grounding document' }] });
  });

  test('a failed request records its error code and no decision', () => {
    const event = buildAuditEvent({ requestId: 'r', route: '/v1/generate', status: 502, errorCode: 'backend_error' }, 'full');
    expect(event.decision).toBeNull();
    expect(event.attributes['error.type']).toBe('backend_error');
    expect(event.attributes['http.response.status_code']).toBe(502);
    expect(event.input).toBeNull();
  });

  test('redacted: removes the sensitive spans on a copy, records counts and types, never the values', () => {
    const findings = [emailFinding(), cardFinding(), emailFinding({ stage: 'output', source: undefined, choice: 0, spans: [[9, 9 + EMAIL.length]] })];
    const input = fields(findings);
    const before = JSON.stringify(input);
    const event = buildAuditEvent(input, 'redacted');
    expect(JSON.stringify(input)).toBe(before); // the caller's objects are untouched
    expect(event.input).toEqual({
      level: 'redacted',
      parts: [
        { source: 'prompt', text: 'Mail [REDACTED:pii.email] about card [REDACTED:pii.payment_card] now', removed: [{ check: 'pii.email', count: 1, chars: EMAIL.length }, { check: 'pii.payment_card', count: 1, chars: 19 }] },
        { source: 'context/0', text: 'a grounding document', removed: [] },
      ],
    });
    expect(event.output).toEqual({ level: 'redacted', parts: [{ source: 'choices/0', text: 'Reply to [REDACTED:pii.email]', removed: [{ check: 'pii.email', count: 1, chars: EMAIL.length }] }] });
    const serialized = JSON.stringify(event);
    expect(serialized).not.toContain(EMAIL);
    expect(serialized).not.toContain('4111');
    expect(event.findings[0].explanation).toBe('found [REDACTED]');
    expect(event.findings[0].details).toEqual({ value: '[REDACTED]', kind: 'email' });
    expect(event.findings[1].enforced).toBe(false); // shadow findings are kept and audited
  });

  test('redacted fails closed: a sensitive finding without spans, or with bad spans, removes the whole part', () => {
    const event = buildAuditEvent(fields([emailFinding({ spans: undefined }), { ...cardFinding(), source: 'context/0', spans: [[5, 9999]] }]), 'redacted');
    expect(event.input?.parts).toEqual([
      { source: 'prompt', text: '[REDACTED:pii.email]', removed: [{ check: 'pii.email', count: 1, chars: PROMPT.length, whole: true }] },
      { source: 'context/0', text: '[REDACTED:pii.payment_card]', removed: [{ check: 'pii.payment_card', count: 1, chars: 20, whole: true }] },
    ]);
    expect(JSON.stringify(event.input)).not.toContain(EMAIL);
    expect(event.findings[0]).toEqual(expect.objectContaining({ check: 'pii.email', explanation: '[REDACTED]' }));
    expect(event.findings[0].details).toBeUndefined();
    expect(JSON.stringify(event.findings)).not.toContain(EMAIL);
  });

  test('redacted leaves non-sensitive failing findings (an injection flag) in place', () => {
    const injection: Finding = { check: 'prompt_injection', stage: 'input', verdict: 'fail', action: 'block', enforced: true, score: 0.97, explanation: 'override attempt', spans: [[0, 4]], source: 'prompt' };
    const event = buildAuditEvent(fields([injection]), 'redacted');
    expect(event.input?.parts[0]).toEqual({ source: 'prompt', text: PROMPT, removed: [] });
  });

  test('overlapping spans merge and are counted once', () => {
    const parts = redactAuditText([{ source: 'prompt', text: 'abcdefghij' }], [
      { check: 'pii.a', stage: 'input', verdict: 'fail', action: 'redact', enforced: true, score: 1, explanation: '', spans: [[1, 5]], source: 'prompt' },
      { check: 'pii.b', stage: 'input', verdict: 'fail', action: 'redact', enforced: true, score: 1, explanation: '', spans: [[3, 7]], source: 'prompt' },
      { check: 'pii.a', stage: 'input', verdict: 'pass', action: 'redact', enforced: true, score: 0, explanation: '', spans: [[8, 9]], source: 'prompt' },
    ], 'input');
    expect(parts).toEqual([{ source: 'prompt', text: 'a[REDACTED:pii.a]hij', removed: [{ check: 'pii.a', count: 1, chars: 6 }] }]);
  });

  test('hashes: only sha256 and length of each text; explanations scrubbed of every span', () => {
    const event = buildAuditEvent(fields([emailFinding()]), 'hashes');
    expect(event.input).toEqual({
      level: 'hashes',
      parts: [
        { source: 'prompt', sha256: createHash('sha256').update(PROMPT).digest('hex'), length: PROMPT.length },
        { source: 'context/0', sha256: createHash('sha256').update('a grounding document').digest('hex'), length: 20 },
      ],
    });
    expect(JSON.stringify(event)).not.toContain(EMAIL);
    expect(JSON.stringify(event)).not.toContain('Reply to');
  });

  test('replay extras (constraint spec, lexical, api) are kept at the full level only, as a copy', () => {
    const replay = { api: 'chat', constraint: { type: 'regex', pattern: 'a+' }, lexical: { include: ['x'] } };
    const full = buildAuditEvent({ ...fields([]), replay }, 'full');
    expect(full.replay).toEqual(replay);
    expect(full.replay).not.toBe(replay);
    expect(buildAuditEvent({ ...fields([]), replay }, 'redacted').replay).toBeUndefined();
    expect(buildAuditEvent({ ...fields([]), replay }, 'hashes').replay).toBeUndefined();
  });

  test('refuses an unknown level and an invalid time', () => {
    expect(() => buildAuditEvent(fields([]), 'everything' as never)).toThrow(/unknown audit level/);
    expect(() => buildAuditEvent({ ...fields([]), time: 'yesterday' }, 'full')).toThrow(/invalid time/);
  });
});
