/**
 * JSON Schemas of the request bodies (native, OpenAI chat and completions, check), compiled once with
 * ajv. A failure becomes `invalid_request` with `param` = the JSON pointer of the offending field.
 * OpenAI fields Rein does not implement are rejected by name (SPEC.md §3), except the harmless ones
 * documented in docs/api.md (`user`, `metadata`, `stream_options`).
 */
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import { GatewayError } from '../errors/gateway-error';

const phrase = {
  anyOf: [
    { type: 'string', minLength: 1, maxLength: 1000 },
    {
      type: 'object',
      additionalProperties: false,
      required: ['phrase'],
      properties: { phrase: { type: 'string', minLength: 1, maxLength: 1000 }, ignore_case: { type: 'boolean' }, whole_word: { type: 'boolean' } },
    },
  ],
};

const lexical = {
  type: 'object',
  additionalProperties: false,
  properties: {
    include: { type: 'array', maxItems: 32, items: phrase },
    exclude: { type: 'array', maxItems: 256, items: phrase },
    ref: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' },
  },
};

const constraint = {
  type: 'object',
  required: ['type'],
  properties: {
    type: { enum: ['json_schema', 'json_object', 'regex', 'choice', 'grammar'] },
  },
  allOf: [
    {
      if: { properties: { type: { const: 'json_schema' } } },
      then: {
        additionalProperties: false,
        properties: { type: {}, schema: { type: ['object', 'boolean'] }, ref: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' }, whitespace: { enum: ['compact', 'python', 'flexible'] } },
        oneOf: [{ required: ['schema'] }, { required: ['ref'] }],
      },
    },
    { if: { properties: { type: { const: 'json_object' } } }, then: { additionalProperties: false, properties: { type: {} } } },
    {
      if: { properties: { type: { const: 'regex' } } },
      then: { additionalProperties: false, required: ['pattern'], properties: { type: {}, pattern: { type: 'string', minLength: 1, maxLength: 10000 } } },
    },
    {
      if: { properties: { type: { const: 'choice' } } },
      then: {
        additionalProperties: false,
        required: ['choices'],
        properties: { type: {}, choices: { type: 'array', minItems: 1, maxItems: 4096, items: { type: 'string', maxLength: 10000 } } },
      },
    },
    {
      if: { properties: { type: { const: 'grammar' } } },
      then: {
        additionalProperties: false,
        properties: { type: {}, grammar: { type: 'string', minLength: 1, maxLength: 200000 }, name: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' } },
        oneOf: [{ required: ['grammar'] }, { required: ['name'] }],
      },
    },
  ],
};

const message = {
  type: 'object',
  required: ['role', 'content'],
  additionalProperties: false,
  properties: {
    role: { enum: ['system', 'user', 'assistant', 'tool', 'developer'] },
    content: {
      anyOf: [
        { type: 'string' },
        {
          type: 'array',
          maxItems: 256,
          items: {
            type: 'object',
            required: ['type', 'text'],
            additionalProperties: false,
            properties: { type: { const: 'text' }, text: { type: 'string' } },
          },
        },
      ],
    },
    name: { type: 'string', maxLength: 256 },
    tool_call_id: { type: 'string', maxLength: 256 },
  },
};

const stop = { anyOf: [{ type: 'string', minLength: 1, maxLength: 1000 }, { type: 'array', maxItems: 16, items: { type: 'string', minLength: 1, maxLength: 1000 } }] };

const checks = {
  type: 'object',
  additionalProperties: false,
  properties: {
    self_consistency: {
      anyOf: [
        { type: 'boolean' },
        {
          type: 'object',
          additionalProperties: false,
          properties: {
            samples: { type: 'integer', minimum: 1, maximum: 32 },
            temperature: { type: 'number', minimum: 0, maximum: 2 },
            variant: { enum: ['unigram-max', 'unigram-avg', 'ngram', 'nli'] },
            mode: { enum: ['score', 'vote'] },
          },
        },
      ],
    },
    grounding: { type: 'boolean' },
  },
};

const sampling = {
  max_tokens: { type: 'integer', minimum: 1 },
  temperature: { type: 'number', minimum: 0, maximum: 2 },
  top_p: { type: 'number', exclusiveMinimum: 0, maximum: 1 },
  top_k: { type: 'integer', minimum: 0 },
  min_p: { type: 'number', minimum: 0, maximum: 1 },
  repetition_penalty: { type: 'number', exclusiveMinimum: 0, maximum: 10 },
  seed: { type: 'integer', minimum: 0, maximum: 4294967295 },
  n: { type: 'integer', minimum: 1 },
  stop,
  stream: { type: 'boolean' },
};

export const GENERATE_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    model: { type: 'string', minLength: 1, maxLength: 256 },
    prompt: { type: 'string' },
    messages: { type: 'array', minItems: 1, items: message },
    ...sampling,
    constraint,
    lexical,
    policy: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' },
    context: { type: 'array', items: { type: 'string' } },
    checks,
  },
  oneOf: [{ required: ['prompt'] }, { required: ['messages'] }],
};

const structuredOutputs = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  maxProperties: 1,
  properties: {
    json: { type: ['object', 'boolean', 'string'] },
    regex: { type: 'string', minLength: 1, maxLength: 10000 },
    choice: { type: 'array', minItems: 1, maxItems: 4096, items: { type: 'string' } },
    grammar: { type: 'string', minLength: 1, maxLength: 200000 },
  },
};

const responseFormat = {
  type: 'object',
  required: ['type'],
  properties: { type: { enum: ['text', 'json_object', 'json_schema'] } },
  allOf: [
    {
      if: { properties: { type: { const: 'json_schema' } } },
      then: {
        required: ['json_schema'],
        properties: {
          json_schema: {
            type: 'object',
            required: ['name'],
            additionalProperties: false,
            properties: { name: { type: 'string', maxLength: 256 }, description: { type: 'string' }, schema: { type: ['object', 'boolean'] }, strict: { type: ['boolean', 'null'] } },
          },
        },
      },
    },
  ],
};

const openAiExtensions = {
  user: { type: 'string' },
  metadata: { type: 'object' },
  stream_options: { type: ['object', 'null'] },
  response_format: responseFormat,
  structured_outputs: structuredOutputs,
  guided_json: { type: ['object', 'boolean', 'string'] },
  guided_regex: { type: 'string', minLength: 1, maxLength: 10000 },
  guided_choice: { type: 'array', minItems: 1, maxItems: 4096, items: { type: 'string' } },
  guided_grammar: { type: 'string', minLength: 1, maxLength: 200000 },
  policy: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' },
  lexical,
  checks,
  context: { type: 'array', items: { type: 'string' } },
  // OpenAI's own defaults, accepted when they ask for nothing Rein does not do.
  presence_penalty: { const: 0 },
  frequency_penalty: { const: 0 },
  logprobs: { const: false },
  parallel_tool_calls: { type: 'boolean' },
};

export const CHAT_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['model', 'messages'],
  properties: {
    model: { type: 'string', minLength: 1, maxLength: 256 },
    messages: { type: 'array', minItems: 1, items: message },
    max_completion_tokens: { type: ['integer', 'null'], minimum: 1 },
    ...sampling,
    max_tokens: { type: ['integer', 'null'], minimum: 1 },
    ...openAiExtensions,
  },
};

export const COMPLETIONS_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['model', 'prompt'],
  properties: {
    model: { type: 'string', minLength: 1, maxLength: 256 },
    prompt: { anyOf: [{ type: 'string' }, { type: 'array', minItems: 1, maxItems: 1, items: { type: 'string' } }] },
    ...sampling,
    max_tokens: { type: ['integer', 'null'], minimum: 1 },
    echo: { const: false },
    best_of: { const: 1 },
    suffix: { type: 'null' },
    ...openAiExtensions,
  },
};

export const CHECK_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    input: { type: 'string' },
    output: { type: 'string' },
    samples: { type: 'array', maxItems: 64, items: { type: 'string' } },
    context: { type: 'array', maxItems: 64, items: { type: 'string' } },
    policy: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' },
  },
  anyOf: [{ required: ['input'] }, { required: ['output'] }],
};

const ajv = new Ajv({ allErrors: false, strict: false });

function pointerOf(error: ErrorObject): string {
  if (error.keyword === 'additionalProperties') return `${error.instancePath}/${String(error.params.additionalProperty)}`;
  if (error.keyword === 'required') return `${error.instancePath}/${String(error.params.missingProperty)}`;
  return error.instancePath || '';
}

function messageOf(error: ErrorObject, api: 'native' | 'openai'): string {
  const pointer = pointerOf(error);
  const field = pointer.replace(/^\//, '').replace(/\//g, '.') || 'body';
  if (error.keyword === 'additionalProperties') {
    return api === 'openai'
      ? `parameter '${field}' is not supported by Rein (see docs/api.md for the supported OpenAI parameters)`
      : `unknown field '${field}'`;
  }
  if (error.keyword === 'const' && api === 'openai') return `parameter '${field}' is not supported with this value`;
  if (error.keyword === 'required') return `missing required field '${field}'`;
  if (error.keyword === 'oneOf' && pointer === '') return "exactly one of 'prompt' and 'messages' is required";
  return `'${field}' ${error.message ?? 'is invalid'}`;
}

export interface BodyValidator {
  (body: unknown): void;
}

function compile(schema: object, api: 'native' | 'openai'): BodyValidator {
  const validate: ValidateFunction = ajv.compile(schema);
  return (body: unknown) => {
    if (body === undefined || body === null || typeof body !== 'object' || Array.isArray(body)) {
      throw new GatewayError('invalid_request', 'request body must be a JSON object', { param: '' });
    }
    if (validate(body)) return;
    const errors = validate.errors ?? [];
    // Prefer the most specific error (additionalProperties / type / range) over combinator noise.
    const specific = errors.find((error) => !['oneOf', 'anyOf', 'if', 'allOf'].includes(error.keyword)) ?? errors[0];
    throw new GatewayError('invalid_request', messageOf(specific, api), { param: pointerOf(specific) });
  };
}

export const validateGenerateBody = compile(GENERATE_SCHEMA, 'native');
export const validateChatBody = compile(CHAT_SCHEMA, 'openai');
export const validateCompletionsBody = compile(COMPLETIONS_SCHEMA, 'openai');
export const validateCheckBody = compile(CHECK_SCHEMA, 'native');
