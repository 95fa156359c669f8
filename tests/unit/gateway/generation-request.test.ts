/**
 * Normalising requests: the OpenAI constraint forms map onto Rein's constraint, at most one of them,
 * and the limits are enforced with the field named.
 */
import { loadConfig } from '../../../src/config/config';
import { GatewayError } from '../../../src/errors/gateway-error';
import { fromNativeBody, fromOpenAiBody } from '../../../src/pipeline/generation-request';
import { validateChatBody, validateGenerateBody } from '../../../src/server/request-schemas';

const config = loadConfig({ env: {} });
const chat = (extra: Record<string, unknown>) => ({ model: 'm', messages: [{ role: 'user', content: 'hi' }], ...extra });

function errorOf(action: () => unknown): GatewayError {
  try {
    action();
  } catch (error) {
    return error as GatewayError;
  }
  throw new Error('expected an error');
}

describe('OpenAI constraint forms', () => {
  test.each([
    [{ response_format: { type: 'json_object' } }, { type: 'json_object' }],
    [{ response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'integer' } } } }, { type: 'json_schema', schema: { type: 'integer' } }],
    [{ structured_outputs: { regex: 'a+' } }, { type: 'regex', pattern: 'a+' }],
    [{ structured_outputs: { choice: ['a', 'b'] } }, { type: 'choice', choices: ['a', 'b'] }],
    [{ structured_outputs: { grammar: 'root ::= "a"' } }, { type: 'grammar', grammar: 'root ::= "a"' }],
    [{ structured_outputs: { json: '{"type": "string"}' } }, { type: 'json_schema', schema: { type: 'string' } }],
    [{ guided_json: { type: 'boolean' } }, { type: 'json_schema', schema: { type: 'boolean' } }],
    [{ guided_regex: '[0-9]+' }, { type: 'regex', pattern: '[0-9]+' }],
    [{ guided_choice: ['x'] }, { type: 'choice', choices: ['x'] }],
    [{ guided_grammar: 'root ::= "b"' }, { type: 'grammar', grammar: 'root ::= "b"' }],
    [{ response_format: { type: 'text' } }, undefined],
  ])('%j', (extra, expected) => {
    const body = chat(extra);
    validateChatBody(body);
    expect(fromOpenAiBody(body, 'chat', config).constraint).toEqual(expected);
  });

  test('two constraint forms at once are a 400 naming the second', () => {
    const error = errorOf(() => fromOpenAiBody(chat({ guided_regex: 'a', guided_choice: ['b'] }), 'chat', config));
    expect(error.code).toBe('invalid_request');
    expect(error.param).toBe('/guided_choice');
  });

  test('a JSON Schema given as a string that is not JSON is constraint_invalid', () => {
    expect(errorOf(() => fromOpenAiBody(chat({ guided_json: '{nope' }), 'chat', config)).code).toBe('constraint_invalid');
  });

  test('unsupported OpenAI parameters are named; harmless ones are accepted', () => {
    expect(errorOf(() => validateChatBody(chat({ logit_bias: {} }))).param).toBe('/logit_bias');
    expect(errorOf(() => validateChatBody(chat({ frequency_penalty: 0.5 }))).param).toBe('/frequency_penalty');
    expect(() => validateChatBody(chat({ user: 'u1', metadata: { a: 1 }, stream_options: { include_usage: true }, frequency_penalty: 0 }))).not.toThrow();
  });

  test('max_completion_tokens wins over max_tokens; developer role maps to system', () => {
    const request = fromOpenAiBody(chat({ max_tokens: 10, max_completion_tokens: 20, messages: [{ role: 'developer', content: 'be brief' }] }), 'chat', config);
    expect(request.maxTokens).toBe(20);
    expect(request.messages![0].role).toBe('system');
  });
});

describe('native requests', () => {
  test('defaults and a drawn seed', () => {
    const request = fromNativeBody({ prompt: 'x' }, config);
    expect(request).toMatchObject({ temperature: 1, topP: 1, topK: 0, minP: 0, repetitionPenalty: 1, n: 1, stop: [], stream: false, seedGiven: false });
    expect(Number.isInteger(request.seed)).toBe(true);
  });

  test('limits name the field', () => {
    expect(errorOf(() => fromNativeBody({ prompt: 'x', max_tokens: 10 ** 6 }, config)).param).toBe('/max_tokens');
    expect(errorOf(() => fromNativeBody({ prompt: 'x', n: 1000 }, config)).param).toBe('/n');
    expect(errorOf(() => fromNativeBody({ prompt: 'x'.repeat(config.limits.max_prompt_chars + 1) }, config)).code).toBe('context_length_exceeded');
  });

  test('schema errors point at the field', () => {
    expect(errorOf(() => validateGenerateBody({ prompt: 'x', constraint: { type: 'regex' } })).param).toBe('/constraint/pattern');
    expect(errorOf(() => validateGenerateBody({ prompt: 'x', lexical: { include: [''] } })).param).toMatch(/^\/lexical\/include\/0/);
    expect(errorOf(() => validateGenerateBody({ prompt: 'x', top_p: 0 })).param).toBe('/top_p');
    expect(errorOf(() => validateGenerateBody([])).code).toBe('invalid_request');
  });
});
