/**
 * buildAuditEvent's fast paths (objects built in sorted key order, nothing scrubbed when no value is
 * sensitive, redaction skipped when no finding of a stage is sensitive, details copied key by key)
 * store the same bytes as the general code they replaced (reference-audit-event.ts): the same
 * canonical JSON, hence the same record hashes and MACs, on the default policy's real event shape and
 * on many generated events, sensitive ones included.
 */
import { buildAuditEvent, type AuditEventFields, type AuditLevel } from '../../../src/audit/audit-event';
import { canonicalJson, canonicalJsonGeneral } from '../../../src/audit/canonical-json';
import { redactAuditText, type AuditTextPart } from '../../../src/audit/redact-audit-text';
import type { Finding } from '../../../src/safety/finding';
import { referenceBuildAuditEvent, referenceRedactAuditText } from './reference-audit-event';
import { mulberry32 } from '../../../src/util/mulberry32';

const LEVELS: AuditLevel[] = ['full', 'redacted', 'hashes'];

const prng = mulberry32;

/** What the shipped `default` policy records for "Hello, how are you today?" -> "Hello world" (7 findings). */
function defaultPolicyFields(): AuditEventFields {
  const input = 'Hello, how are you today?';
  const pass = (check: string, stage: 'input' | 'output', explanation: string, details: Record<string, unknown>, source?: string): Finding => ({
    check, version: '1.0.0', stage, enforced: true, ...(source ? { source } : {}), durationMs: 0.012, verdict: 'pass', action: 'allow', score: 0, explanation, details,
  });
  return {
    requestId: 'req_0123456789abcdef', time: new Date(1764370000123), route: '/v1/chat/completions', operation: 'chat', apiKeyId: 'team-a',
    model: 'ok', responseModel: 'ok', backend: 'fixture',
    decoding: { temperature: 0.7, topP: undefined, topK: undefined, minP: undefined, repetitionPenalty: undefined, maxTokens: 64, n: undefined, stop: undefined, seed: undefined, stream: false },
    constraint: null, policy: { name: 'default', revision: `sha256:${'ab'.repeat(32)}` },
    findings: [
      pass('unicode', 'input', 'no invisible, bidi or confusable characters', { entry: '/input/0', threshold: 0.5 }, 'messages/0'),
      { ...pass('prompt_injection', 'input', 'no injection patterns; classifier 0.45', { mode: 'direct', pattern_score: 0, classifier_score: 0.45, families: [], window: undefined, matches: [], entry: '/input/1', threshold: 0.5 }, 'messages/0'), score: 0.45 },
      { ...pass('jailbreak', 'input', 'no jailbreak patterns; classifier 0.00', { pattern_score: 0, classifier_score: 0.0036863543788827114, classifier_raw: 0.00589852832010021, families: [], matches: [], entry: '/input/2', threshold: 0.5 }, 'messages/0'), score: 0.0036863543788827114 },
      pass('secrets', 'input', 'secrets: nothing found', { entry: '/input/3', threshold: 0.5 }, 'messages/0'),
      pass('secrets', 'output', 'secrets: nothing found', { entry: '/output/0', threshold: 0.5 }),
      pass('pii', 'output', 'pii: nothing found', { entry: '/output/1', entry_id: 'pii-numbers', threshold: 0.5 }),
      pass('pii', 'output', 'pii: nothing found', { entry: '/output/2', entry_id: 'pii-contact', threshold: 0.5 }),
    ],
    decision: 'allow', status: 200, errorCode: null,
    timingsMs: { authenticate: 0.01, resolve_policy: 0.004, input_checks: 0.05, generate: 0.4, output_checks: 0.02 },
    usage: { inputTokens: 7, outputTokens: 2 }, finishReasons: ['stop'],
    input: [{ source: 'messages/0', text: input, role: 'user' }], output: [{ source: 'choices/0', text: 'Hello world' }],
    replay: { api: 'chat', constraint: undefined, lexical: undefined },
  };
}

const WORDS = ['hello', 'jane@example.org', '4111 1111 1111 1111', 'RED', 'ACTED', 'é', '"q"', 'back\\slash', 'tab\t', '\u0001', '😀', '\ud800', 'x', '0', '__proto__'];
const CHECKS = ['pii', 'pii.email', 'pii.phone', 'secrets', 'prompt_injection', 'jailbreak', 'unicode', 'custom.sensitive'];

function generatedFields(seed: number): AuditEventFields {
  const random = prng(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
  const chance = (p: number) => random() < p;
  const text = () => Array.from({ length: 1 + Math.floor(random() * 8) }, () => pick(WORDS)).join(' ');
  const input: AuditTextPart[] = Array.from({ length: Math.floor(random() * 3) + (chance(0.9) ? 1 : 0) }, (_, index) =>
    chance(0.5) ? { source: `messages/${index}`, role: pick(['user', 'system', 'assistant']), text: text() } : { source: index === 0 ? 'prompt' : `context/${index}`, text: text() },
  );
  const output: AuditTextPart[] = Array.from({ length: Math.floor(random() * 3) }, (_, index) => ({ source: `choices/${index}`, text: text() }));
  const value = (depth: number): unknown => {
    const kind = Math.floor(random() * (depth > 19 ? 5 : 9));
    switch (kind) {
      case 0: return text();
      case 1: return pick([0, -0, 1.5, 1e21, -3, NaN, Infinity, -Infinity, 0.1 + 0.2]);
      case 2: return chance(0.5);
      case 3: return null;
      case 4: return undefined;
      case 5: return Array.from({ length: Math.floor(random() * 3) }, () => value(depth + 1));
      case 6: return value(depth + 1) === undefined ? [] : [value(depth + 1)];
      default: {
        const object: Record<string, unknown> = {};
        for (let index = Math.floor(random() * 4); index > 0; index--) {
          const key = pick(['b', 'a', 'entry', 'threshold', '10', '9', 'z', 'é', 'sensitive', '__proto__', 'value']);
          const member = value(depth + 1);
          if (key === '__proto__') Object.defineProperty(object, key, { value: member, enumerable: true, writable: true, configurable: true });
          else object[key] = member;
        }
        return object;
      }
    }
  };
  const findings: Finding[] = [];
  for (let count = Math.floor(random() * 9); count > 0; count--) {
    const stage = chance(0.5) ? 'input' : 'output';
    const parts = stage === 'input' ? input : output;
    const part = parts.length > 0 ? pick(parts) : undefined;
    let spans: Array<[number, number]> | undefined;
    if (part && chance(0.7)) {
      spans = [];
      for (let index = 1 + Math.floor(random() * 3); index > 0; index--) {
        const start = Math.floor(random() * part.text.length);
        spans.push([start, Math.min(part.text.length, start + 1 + Math.floor(random() * 12))]);
      }
      if (chance(0.1)) spans.push([5, 2]); // unusable
    }
    const quoted = part && spans && spans[0][0] < spans[0][1] ? part.text.slice(spans[0][0], spans[0][1]) : 'nothing';
    const details = chance(0.8) ? (value(0) as Record<string, unknown>) : undefined;
    const finding: Finding = {
      check: pick(CHECKS), stage, verdict: pick(['pass', 'pass', 'fail'] as const), action: pick(['allow', 'flag', 'redact', 'block'] as const),
      enforced: chance(0.8), score: pick([0, 0.5, 1, NaN, Infinity]), explanation: chance(0.5) ? `found ${quoted}` : 'nothing found',
    };
    if (chance(0.7)) finding.version = '1.0.0';
    if (part && chance(0.7)) finding.source = chance(0.1) ? 'messages/99' : part.source;
    if (stage === 'output' && chance(0.5)) finding.choice = Math.floor(random() * 3);
    if (spans) finding.spans = spans;
    if (chance(0.6)) finding.durationMs = pick([0.5, 12.25, NaN]);
    if (chance(0.2)) finding.error = `failed on ${quoted}`;
    if (details !== undefined) finding.details = details && typeof details === 'object' && !Array.isArray(details) ? { ...details, note: `saw ${quoted}`, ...(chance(0.2) ? { sensitive: true } : {}) } : details;
    findings.push(finding);
  }
  const fields: AuditEventFields = { requestId: `req_${seed}`, time: new Date(1764370000000 + seed * 1000), route: pick(['/v1/chat/completions', '/v1/completions', '/v1/generate']), status: pick([200, 400, 502]) };
  if (chance(0.8)) fields.findings = findings;
  if (chance(0.8)) fields.input = input;
  if (chance(0.7)) fields.output = output;
  if (chance(0.7)) fields.apiKeyId = chance(0.8) ? 'team-a' : null;
  if (chance(0.7)) fields.operation = pick(['chat', 'text_completion']);
  if (chance(0.7)) fields.model = 'rein-demo';
  if (chance(0.5)) fields.responseModel = 'rein-demo';
  if (chance(0.5)) fields.backend = 'onnx';
  if (chance(0.7)) fields.decoding = { temperature: pick([0, 0.7, NaN, undefined]), topP: pick([1, undefined]), topK: pick([40, undefined]), minP: pick([0, undefined]), repetitionPenalty: pick([1.1, Infinity, undefined]), maxTokens: pick([16, undefined]), n: pick([1, 2, undefined]), stop: chance(0.3) ? ['\n', 'END'] : undefined, seed: pick([42, undefined]), stream: pick([true, false, undefined]) };
  if (chance(0.3)) fields.constraint = chance(0.7) ? { type: 'json_schema', hash: 'sha256:c0ffee' } : null;
  if (chance(0.7)) fields.policy = chance(0.9) ? { name: 'default', revision: 'sha256:abc' } : null;
  if (chance(0.7)) fields.decision = pick(['allow', 'flag', 'redact', 'block', null] as const);
  if (chance(0.3)) fields.errorCode = pick(['backend_error', 'content_filter', null] as const);
  if (chance(0.7)) fields.timingsMs = { input: 1.5, generate: pick([20, NaN]), a_first: 0.1 };
  if (chance(0.6)) fields.usage = { inputTokens: pick([12, undefined]), outputTokens: pick([7, NaN]) };
  if (chance(0.6)) fields.finishReasons = ['stop', 'length'];
  if (chance(0.4)) fields.replay = { api: 'chat', constraint: chance(0.5) ? { type: 'regex', pattern: 'a+' } : undefined, lexical: undefined };
  return fields;
}

function expectSameBytes(fields: AuditEventFields, level: AuditLevel): void {
  const before = JSON.stringify(fields);
  const expected = canonicalJson(referenceBuildAuditEvent(fields, level));
  const actual = buildAuditEvent(fields, level);
  expect(canonicalJson(actual)).toBe(expected);
  // Same members and values in memory as well (the order of keys may differ; the encoding sorts them).
  expect(actual).toEqual(referenceBuildAuditEvent(fields, level));
  expect(JSON.stringify(fields)).toBe(before);
}

describe('buildAuditEvent fast paths store the same bytes as the general code', () => {
  test('the default policy event (7 passing findings with details), every level', () => {
    for (const level of LEVELS) expectSameBytes(defaultPolicyFields(), level);
  });

  test('the default policy event is built with every key in sorted order (so canonicalJson writes it with JSON.stringify)', () => {
    for (const level of LEVELS) {
      const event = buildAuditEvent(defaultPolicyFields(), level);
      expect(JSON.stringify(event)).toBe(canonicalJsonGeneral(event));
    }
  });

  test('the default policy event with sensitive output findings (PII spans, scrubbed explanations and details)', () => {
    const fields = defaultPolicyFields();
    const text = 'Sure jane.doe@example.com, call 415-555-0100';
    fields.output = [{ source: 'choices/0', text }];
    fields.findings = [
      ...fields.findings!,
      { check: 'pii.email', version: '1.0.0', stage: 'output', enforced: true, verdict: 'fail', action: 'flag', score: 1, explanation: 'found jane.doe@example.com', spans: [[5, 25]], details: { count: 1, value: 'jane.doe@example.com', entry: '/output/2' } },
      { check: 'pii.phone', version: '1.0.0', stage: 'output', enforced: true, verdict: 'fail', action: 'flag', score: 1, explanation: 'found 1 phone number', details: { count: 1 } },
    ];
    for (const level of LEVELS) expectSameBytes(fields, level);
    const stored = canonicalJson(buildAuditEvent(fields, 'redacted'));
    expect(stored).not.toContain('jane.doe@example.com');
    expect(stored).not.toContain('415-555-0100');
  });

  test('2000 generated events (sensitive and not, odd details, every level)', () => {
    for (let seed = 1; seed <= 2000; seed++) {
      const fields = generatedFields(seed);
      for (const level of LEVELS) expectSameBytes(fields, level);
    }
  });

  test('redactAuditText without a sensitive finding returns the parts unchanged, as the general path did', () => {
    const parts: AuditTextPart[] = [{ source: 'messages/0', role: 'user', text: 'hi "there"' }, { source: 'context/0', text: '' }];
    const findings: Finding[] = [
      { check: 'secrets', stage: 'input', verdict: 'pass', action: 'allow', enforced: true, score: 0, explanation: '' },
      { check: 'pii.email', stage: 'output', verdict: 'fail', action: 'redact', enforced: true, score: 1, explanation: '', spans: [[0, 2]] },
    ];
    expect(redactAuditText(parts, findings, 'input')).toEqual(referenceRedactAuditText(parts, findings, 'input'));
    expect(canonicalJson(redactAuditText(parts, findings, 'input'))).toBe(canonicalJson(referenceRedactAuditText(parts, findings, 'input')));
    expect(canonicalJson(redactAuditText(parts, [], 'output'))).toBe(canonicalJson(referenceRedactAuditText(parts, [], 'output')));
  });

  test('a __proto__ key in details stays an own member and does not change the copy\'s prototype', () => {
    const details = JSON.parse('{"__proto__":{"polluted":true},"a":1}') as Record<string, unknown>;
    const fields: AuditEventFields = { requestId: 'r', time: '2026-01-02T03:04:05.000Z', route: '/v1/generate', status: 200, findings: [{ check: 'x', stage: 'input', verdict: 'pass', action: 'allow', enforced: true, score: 0, explanation: '', details }] };
    const event = buildAuditEvent(fields, 'redacted');
    const copied = event.findings[0].details!;
    expect(Object.getPrototypeOf(copied)).toBe(Object.prototype);
    expect(Object.keys(copied)).toEqual(['__proto__', 'a']);
    expect(canonicalJson(event)).toBe(canonicalJson(referenceBuildAuditEvent(fields, 'redacted')));
  });
});
