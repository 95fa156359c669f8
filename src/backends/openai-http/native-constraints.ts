/**
 * Translates Rein's constraint into what a remote server enforces natively, per server kind:
 *   vLLM / Rein: `structured_outputs: {json|regex|choice|grammar}` (vLLM ≥ 0.10; older: `guided_*`)
 *   llama.cpp server: `json_schema`, `grammar` (GBNF)
 *   TGI: `response_format: {type: "json_object"|"regex", value}` on its OpenAI route
 *   SGLang: `response_format` json_schema, `regex`, `ebnf`
 *   Ollama: `format` (a JSON Schema or "json")
 *   OpenAI: `response_format` json_schema / json_object
 * Returns undefined when the kind cannot enforce this constraint; the caller then validates and
 * retries, or refuses (the policy's choice). Lexical constraints are never native.
 */
import type { ConstraintKind, ConstraintSpec } from '../../decoding/constraint';

export type ServerKind = 'openai' | 'vllm' | 'llamacpp' | 'tgi' | 'sglang' | 'ollama' | 'rein';

export const DEFAULT_NATIVE_CONSTRAINTS: Record<ServerKind, ConstraintKind[]> = {
  openai: ['json_schema', 'json_object'],
  vllm: ['json_schema', 'json_object', 'regex', 'choice', 'grammar'],
  rein: ['json_schema', 'json_object', 'regex', 'choice', 'grammar'],
  llamacpp: ['json_schema', 'json_object', 'grammar'],
  tgi: ['json_schema', 'json_object', 'regex'],
  sglang: ['json_schema', 'json_object', 'regex', 'grammar'],
  ollama: ['json_schema', 'json_object'],
};

/** Request-body fields that make `kind` enforce `spec`; `schema` is the resolved JSON Schema for json_schema. */
export function nativeConstraintFields(kind: ServerKind, spec: ConstraintSpec, schema: unknown, grammarText?: string): Record<string, unknown> | undefined {
  switch (kind) {
    case 'vllm':
    case 'rein':
      switch (spec.type) {
        case 'json_schema':
          return { structured_outputs: { json: schema } };
        case 'json_object':
          return { response_format: { type: 'json_object' } };
        case 'regex':
          return { structured_outputs: { regex: spec.pattern } };
        case 'choice':
          return { structured_outputs: { choice: spec.choices } };
        case 'grammar':
          return grammarText ? { structured_outputs: { grammar: grammarText } } : undefined;
      }
      return undefined;
    case 'llamacpp':
      if (spec.type === 'json_schema') return { json_schema: schema };
      if (spec.type === 'json_object') return { response_format: { type: 'json_object' } };
      if (spec.type === 'grammar' && grammarText) return { grammar: grammarText };
      return undefined;
    case 'tgi':
      if (spec.type === 'json_schema') return { response_format: { type: 'json_object', value: schema } };
      if (spec.type === 'json_object') return { response_format: { type: 'json_object', value: { type: 'object' } } };
      if (spec.type === 'regex') return { response_format: { type: 'regex', value: spec.pattern } };
      return undefined;
    case 'sglang':
      if (spec.type === 'json_schema') return { response_format: { type: 'json_schema', json_schema: { name: 'output', schema } } };
      if (spec.type === 'json_object') return { response_format: { type: 'json_object' } };
      if (spec.type === 'regex') return { regex: spec.pattern };
      if (spec.type === 'grammar' && grammarText) return { ebnf: grammarText };
      return undefined;
    case 'ollama':
      if (spec.type === 'json_schema') return { format: schema };
      if (spec.type === 'json_object') return { format: 'json' };
      return undefined;
    case 'openai':
      if (spec.type === 'json_schema') return { response_format: { type: 'json_schema', json_schema: { name: 'output', schema, strict: true } } };
      if (spec.type === 'json_object') return { response_format: { type: 'json_object' } };
      return undefined;
  }
}
