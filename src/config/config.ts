/**
 * Loading the configuration: file (YAML or JSON, `--config`) → environment overrides (`REIN_*`) →
 * command-line overrides → JSON Schema validation with defaults → deep freeze.
 * An unknown key or a wrong type is a start-up error naming the key.
 */
import fs from 'node:fs';
import path from 'node:path';
import Ajv from 'ajv';
import YAML from 'yaml';
import { CONFIG_SCHEMA } from './config-schema';

export type Role = 'generate' | 'check' | 'policy:read' | 'policy:write' | 'audit:read' | 'metrics';
export interface RateLimitSettings {
  requests_per_minute?: number;
  tokens_per_minute?: number;
}
export interface ModelConfig {
  id: string;
  path: string;
  execution_provider: 'cpu' | 'cuda';
  max_batch_size: number;
  threads?: number;
  /** `worker`: forward passes on a worker thread (the event loop stays free); `inline`: on the main thread (less overhead per step). */
  executor: 'worker' | 'inline';
}
export interface RemoteBackendConfig {
  id: string;
  url: string;
  models?: string[];
  api_key_env?: string;
  kind: 'openai' | 'vllm' | 'llamacpp' | 'tgi' | 'sglang' | 'ollama' | 'rein';
  native_constraints?: Array<'json_schema' | 'json_object' | 'regex' | 'choice' | 'grammar'>;
  timeouts_ms: { connect: number; first_byte: number; between_tokens: number; total: number };
  max_retries: number;
  circuit: { failure_threshold: number; reset_ms: number };
  on_unsupported_constraint: 'validate_retry' | 'refuse';
}
export interface KeyConfig {
  id: string;
  hash: string;
  roles: Role[];
  policy?: string;
  rate_limit?: RateLimitSettings;
}
export interface ReinConfig {
  server: {
    host: string;
    port: number;
    body_limit_bytes: number;
    request_timeout_ms: number;
    shutdown_grace_ms: number;
    allow_unauthenticated: boolean;
    trust_proxy: boolean;
  };
  models: ModelConfig[];
  backends: RemoteBackendConfig[];
  policies: { dir: string; default: string; watch: boolean };
  constraints: { grammars_dir: string; constraints_dir: string };
  audit: { store: string; mode: 'sync' | 'async'; fail_mode: 'closed' | 'open'; sqlite_synchronous: 'NORMAL' | 'FULL'; hmac_key?: string; retention_days?: number };
  rate_limit: { store: string; default?: RateLimitSettings };
  keys: KeyConfig[];
  limits: {
    max_tokens: number;
    max_n: number;
    max_prompt_chars: number;
    max_messages: number;
    max_stop_sequences: number;
    max_context_documents: number;
  };
  logging: { level: 'debug' | 'info' | 'warn' | 'error' | 'silent' };
  console: { enabled: boolean };
  checks: {
    /** Builtin checks over texts of at least `min_chars` characters run on `workers` worker threads (default: cores − 1, 1 to 4). */
    offload: { enabled: boolean; workers?: number; min_chars: number };
  };
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Command-line flags of `rein serve` that override the file and the environment. */
export interface ConfigOverrides {
  host?: string;
  port?: number;
  model?: string;
  backend?: string;
  auditDb?: string;
  allowUnauthenticated?: boolean;
  policiesDir?: string;
  logLevel?: ReinConfig['logging']['level'];
}

const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false });
const validateConfig = ajv.compile(CONFIG_SCHEMA);

function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read config file ${file}: ${(error as Error).message}`);
  }
  try {
    const value = file.endsWith('.json') ? JSON.parse(text) : YAML.parse(text);
    if (value === null || value === undefined) return {};
    if (typeof value !== 'object' || Array.isArray(value)) throw new Error('the top level must be a mapping');
    return value as Record<string, unknown>;
  } catch (error) {
    throw new ConfigError(`config file ${file} does not parse: ${(error as Error).message}`);
  }
}

function section(config: Record<string, unknown>, name: string): Record<string, unknown> {
  const existing = config[name];
  if (existing && typeof existing === 'object' && !Array.isArray(existing)) return existing as Record<string, unknown>;
  const created: Record<string, unknown> = {};
  config[name] = created;
  return created;
}

function parsePort(value: string, source: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`${source}: '${value}' is not a port number`);
  return port;
}

function applyOverrides(config: Record<string, unknown>, env: NodeJS.ProcessEnv, overrides: ConfigOverrides): void {
  const server = section(config, 'server');
  const host = overrides.host ?? env.REIN_HOST;
  if (host !== undefined) server.host = host;
  if (overrides.port !== undefined) server.port = overrides.port;
  else if (env.REIN_PORT !== undefined) server.port = parsePort(env.REIN_PORT, 'REIN_PORT');
  if (overrides.allowUnauthenticated || env.REIN_ALLOW_UNAUTHENTICATED === '1' || env.REIN_ALLOW_UNAUTHENTICATED === 'true') {
    server.allow_unauthenticated = true;
  }
  const model = overrides.model ?? env.REIN_MODEL;
  if (model !== undefined) {
    const id = path.basename(path.resolve(model));
    config.models = [{ id, path: model }];
  }
  const backend = overrides.backend ?? env.REIN_BACKEND;
  if (backend !== undefined) {
    config.backends = [{ id: 'remote', url: backend }];
    config.models = [];
  }
  const auditDb = overrides.auditDb ?? env.REIN_AUDIT_DB;
  if (auditDb !== undefined) section(config, 'audit').store = auditDb;
  if (env.REIN_AUDIT_HMAC_KEY !== undefined) section(config, 'audit').hmac_key = env.REIN_AUDIT_HMAC_KEY;
  if (env.REIN_RATE_LIMIT_STORE !== undefined) section(config, 'rate_limit').store = env.REIN_RATE_LIMIT_STORE;
  const policiesDir = overrides.policiesDir ?? env.REIN_POLICIES_DIR;
  if (policiesDir !== undefined) section(config, 'policies').dir = policiesDir;
  const level = overrides.logLevel ?? env.REIN_LOG_LEVEL;
  if (level !== undefined) section(config, 'logging').level = level;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const child of Object.values(value as Record<string, unknown>)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

function describeAjvError(error: { instancePath: string; message?: string; keyword: string; params: Record<string, unknown> }): string {
  const where = error.instancePath || '/';
  if (error.keyword === 'additionalProperties') return `${where}: unknown key '${String(error.params.additionalProperty)}'`;
  if (error.keyword === 'enum') return `${where}: must be one of ${JSON.stringify(error.params.allowedValues)}`;
  return `${where}: ${error.message ?? 'invalid'}`;
}

/** Validates a raw configuration object (after overrides) and returns the frozen config with defaults. */
export function validateRawConfig(raw: Record<string, unknown>, source = 'config'): ReinConfig {
  const copy = structuredClone(raw);
  if (!validateConfig(copy)) {
    const messages = (validateConfig.errors ?? []).map(describeAjvError);
    throw new ConfigError(`invalid configuration (${source}):\n  ${[...new Set(messages)].join('\n  ')}`);
  }
  const config = copy as unknown as ReinConfig;
  const ids = new Set<string>();
  for (const key of config.keys) {
    if (ids.has(key.id)) throw new ConfigError(`invalid configuration (${source}): /keys: duplicate key id '${key.id}'`);
    ids.add(key.id);
  }
  return deepFreeze(config);
}

export function loadConfig(options: { file?: string; env?: NodeJS.ProcessEnv; overrides?: ConfigOverrides } = {}): ReinConfig {
  const env = options.env ?? process.env;
  const file = options.file ?? env.REIN_CONFIG;
  const raw = file ? readConfigFile(file) : {};
  applyOverrides(raw, env, options.overrides ?? {});
  return validateRawConfig(raw, file ?? 'defaults');
}

export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}
