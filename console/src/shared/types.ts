/**
 * The gateway's response shapes the console reads (SPEC.md §3), as far as it uses them.
 */
export type Decision = 'allow' | 'flag' | 'sanitize' | 'redact' | 'block';

export interface Finding {
  check: string;
  id?: string;
  version?: string;
  stage?: 'input' | 'output' | string;
  source?: string;
  choice?: number;
  verdict: string;
  action?: string;
  enforced?: boolean;
  score?: number;
  explanation?: string;
  spans?: Array<[number, number]>;
  error?: string;
  durationMs?: number;
  duration_ms?: number;
  details?: Record<string, unknown>;
}

export interface GenerateChoice {
  index: number;
  text: string;
  finish_reason: string;
  decision?: Decision;
  constraint_complete?: boolean;
}

export interface ConsistencySentence {
  text: string;
  score: number;
}

export interface GenerateResponse {
  id: string;
  model: string;
  seed?: number;
  choices: GenerateChoice[];
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
  decision: Decision;
  findings: Finding[];
  consistency?: { score: number; sentences: ConsistencySentence[] };
  policy?: { name: string; revision: string };
  audit_id?: string;
  timings_ms?: Record<string, number>;
}

export interface ModelInfo {
  id: string;
  backend?: string;
  context_length?: number;
}

export interface PolicySummary {
  name: string;
  revision: string;
  description?: string;
  extends?: string;
  file?: string;
}

export interface PolicyListing {
  policies: PolicySummary[];
  errors: Array<{ name: string; file: string; kept_previous?: boolean; errors: Array<{ pointer: string; line?: number; message: string }> }>;
}

export interface PolicyDetail {
  name: string;
  revision: string;
  description?: string;
  extends: string | null;
  source: string | null;
  load_errors?: Array<{ pointer: string; line?: number; message: string }>;
}

export interface PolicyTestReport {
  policy: string;
  revision: string;
  passed: number;
  failed: number;
  skipped: number;
  results: Array<{ name: string; status: 'pass' | 'fail' | 'skip' | string; failures: Array<string | { message?: string; path?: string }>; durationMs?: number; decision?: string }>;
}

export interface AuditRecord {
  id: string;
  seq: number;
  time: string;
  prev_hash?: string;
  hash?: string;
  event: {
    schema_version?: string;
    time?: string;
    request_id?: string;
    api_key_id?: string | null;
    audit_level?: string;
    decision: Decision | null;
    findings?: Finding[];
    input?: unknown;
    output?: unknown;
    policy?: { name: string; revision: string } | null;
    timings_ms?: Record<string, number>;
    attributes?: Record<string, unknown>;
    [key: string]: unknown;
  };
}

export type VerifyResult = { ok: true; records: number; head?: { seq: number; id: string; hash: string; tree_size?: number; root?: string } } | { ok: false; first_bad?: { seq: number; id: string; reason: string }; code?: string; message?: string };

export const DECISIONS: Decision[] = ['allow', 'flag', 'sanitize', 'redact', 'block'];
