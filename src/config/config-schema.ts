/**
 * The JSON Schema of Rein's configuration file (YAML or JSON). Unknown keys are errors naming the key;
 * defaults are filled in by ajv. Documented in docs/configuration.md.
 */
const rateLimitSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    requests_per_minute: { type: 'number', exclusiveMinimum: 0 },
    tokens_per_minute: { type: 'number', exclusiveMinimum: 0 },
  },
} as const;

export const CONFIG_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  title: 'Rein configuration',
  type: 'object',
  additionalProperties: false,
  properties: {
    server: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        host: { type: 'string', default: '127.0.0.1' },
        port: { type: 'integer', minimum: 0, maximum: 65535, default: 8080 },
        body_limit_bytes: { type: 'integer', minimum: 1024, default: 1048576 },
        request_timeout_ms: { type: 'integer', minimum: 100, default: 300000 },
        shutdown_grace_ms: { type: 'integer', minimum: 0, default: 30000 },
        allow_unauthenticated: { type: 'boolean', default: false },
        trust_proxy: { type: 'boolean', default: false },
      },
    },
    models: {
      type: 'array',
      default: [{ id: 'rein-demo', path: 'models/rein-demo' }],
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'path'],
        properties: {
          id: { type: 'string', pattern: '^[A-Za-z0-9._:/-]{1,128}$' },
          path: { type: 'string' },
          execution_provider: { enum: ['cpu', 'cuda'], default: 'cpu' },
          max_batch_size: { type: 'integer', minimum: 1, maximum: 256, default: 8 },
          threads: { type: 'integer', minimum: 1, maximum: 256 },
          executor: { enum: ['worker', 'inline'], default: 'worker' },
        },
      },
    },
    backends: {
      type: 'array',
      default: [],
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'url'],
        properties: {
          id: { type: 'string' },
          url: { type: 'string', pattern: '^https?://' },
          models: { type: 'array', items: { type: 'string' } },
          api_key_env: { type: 'string' },
          kind: { enum: ['openai', 'vllm', 'llamacpp', 'tgi', 'sglang', 'ollama', 'rein'], default: 'openai' },
          native_constraints: { type: 'array', items: { enum: ['json_schema', 'json_object', 'regex', 'choice', 'grammar'] } },
          timeouts_ms: {
            type: 'object',
            additionalProperties: false,
            default: {},
            properties: {
              connect: { type: 'integer', minimum: 1, default: 5000 },
              first_byte: { type: 'integer', minimum: 1, default: 60000 },
              between_tokens: { type: 'integer', minimum: 1, default: 30000 },
              total: { type: 'integer', minimum: 1, default: 600000 },
            },
          },
          max_retries: { type: 'integer', minimum: 0, maximum: 5, default: 1 },
          circuit: {
            type: 'object',
            additionalProperties: false,
            default: {},
            properties: {
              failure_threshold: { type: 'integer', minimum: 1, default: 5 },
              reset_ms: { type: 'integer', minimum: 100, default: 10000 },
            },
          },
          on_unsupported_constraint: { enum: ['validate_retry', 'refuse'], default: 'validate_retry' },
        },
      },
    },
    policies: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        dir: { type: 'string', default: 'policies' },
        default: { type: 'string', default: 'default' },
        watch: { type: 'boolean', default: true },
      },
    },
    constraints: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        grammars_dir: { type: 'string', default: 'grammars' },
        constraints_dir: { type: 'string', default: 'constraints' },
      },
    },
    audit: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        store: { type: 'string', default: 'sqlite:./data/audit.sqlite' },
        mode: { enum: ['sync', 'async'], default: 'sync' },
        fail_mode: { enum: ['closed', 'open'], default: 'closed' },
        sqlite_synchronous: { enum: ['NORMAL', 'FULL'], default: 'NORMAL' },
        hmac_key: { type: 'string', minLength: 16 },
        retention_days: { type: 'number', exclusiveMinimum: 0 },
      },
    },
    rate_limit: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        store: { type: 'string', default: 'memory', pattern: '^(memory|rediss?://.+)$' },
        default: rateLimitSchema,
      },
    },
    keys: {
      type: 'array',
      default: [],
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'hash'],
        properties: {
          id: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,64}$' },
          hash: { type: 'string', pattern: '^(sha256|scrypt):' },
          roles: {
            type: 'array',
            items: { enum: ['generate', 'check', 'policy:read', 'policy:write', 'audit:read', 'metrics'] },
            default: ['generate', 'check', 'policy:read'],
          },
          policy: { type: 'string' },
          rate_limit: rateLimitSchema,
        },
      },
    },
    limits: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        max_tokens: { type: 'integer', minimum: 1, default: 4096 },
        max_n: { type: 'integer', minimum: 1, default: 16 },
        max_prompt_chars: { type: 'integer', minimum: 1, default: 200000 },
        max_messages: { type: 'integer', minimum: 1, default: 512 },
        max_stop_sequences: { type: 'integer', minimum: 0, default: 16 },
        max_context_documents: { type: 'integer', minimum: 0, default: 64 },
      },
    },
    logging: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: { level: { enum: ['debug', 'info', 'warn', 'error', 'silent'], default: 'info' } },
    },
    console: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: { enabled: { type: 'boolean', default: true } },
    },
    checks: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        // Builtin checks over large texts on worker threads (src/policy/check-worker-pool.ts).
        offload: {
          type: 'object',
          additionalProperties: false,
          default: {},
          properties: {
            enabled: { type: 'boolean', default: true },
            // Default: max(1, min(4, available cores - 1)).
            workers: { type: 'integer', minimum: 1, maximum: 64 },
            min_chars: { type: 'integer', minimum: 0, maximum: 100000000, default: 8192 },
          },
        },
      },
    },
  },
} as const;
