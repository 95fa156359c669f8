/**
 * The pipeline's constraint compiler: the engine's compileConstraint (cached by content hash and
 * vocabulary), plus the independent post-check of complete outputs — ajv (with ajv-formats) for JSON
 * Schema, JSON.parse for json_object, and the byte-level automaton for regex, choice and grammar.
 * A post-check failure is a bug in the engine: the pipeline turns it into a 500 with an audit record.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Ajv from 'ajv';
import Ajv2019 from 'ajv/dist/2019';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { compileConstraint } from '../../decoding/compile-constraint';
import type { CompiledConstraint, ConstraintSpec } from '../../decoding/constraint';
import { BYTE_VOCABULARY, matchesConstraint } from '../../backends/openai-http/byte-vocabulary';
import { parseJson } from '../../util/parse-json';
import type { ConstraintCompiler } from '../pipeline-deps';

type Validator = (data: unknown) => boolean;

function makeAjv(kind: 'draft7' | '2019' | '2020'): Ajv {
  const options = { strict: false, allErrors: false, validateFormats: true, loadSchema: undefined } as const;
  const ajv = kind === '2020' ? new Ajv2020(options) : kind === '2019' ? new Ajv2019(options) : new Ajv(options);
  addFormats(ajv);
  return ajv as Ajv;
}

export function createConstraintCompiler(options: { grammarsDir: string; constraintsDir: string }): ConstraintCompiler & { resolveSchema(spec: ConstraintSpec): unknown } {
  const ajvs = { draft7: makeAjv('draft7'), '2019': makeAjv('2019'), '2020': makeAjv('2020') };
  const validators = new Map<string, Validator>();
  const byteConstraints = new Map<string, CompiledConstraint>();

  const resolveSchema = (spec: ConstraintSpec): unknown => {
    if (spec.type !== 'json_schema') return undefined;
    if (spec.schema !== undefined) return spec.schema;
    const file = path.join(options.constraintsDir, `${spec.ref}.schema.json`);
    const parsed = parseJson(fs.readFileSync(file, 'utf8'));
    if (!parsed.ok) throw new Error(`${file}: ${parsed.error}`);
    return parsed.value;
  };

  const schemaValidator = (schema: unknown): Validator => {
    const key = crypto.createHash('sha256').update(JSON.stringify(schema)).digest('hex');
    let validator = validators.get(key);
    if (!validator) {
      const declared = typeof schema === 'object' && schema !== null ? String((schema as Record<string, unknown>).$schema ?? '') : '';
      const ajv = declared.includes('2020-12') ? ajvs['2020'] : declared.includes('2019-09') ? ajvs['2019'] : declared.includes('draft-07') || declared.includes('draft-06') || declared.includes('draft-04') ? ajvs.draft7 : ajvs['2020'];
      const copy = typeof schema === 'object' && schema !== null ? { ...(schema as object) } : schema;
      if (copy && typeof copy === 'object') delete (copy as Record<string, unknown>).$id;
      validator = ajv.compile(copy as object) as Validator;
      if (validators.size > 512) validators.clear();
      validators.set(key, validator);
    }
    return validator;
  };

  return {
    resolveSchema,
    compile: (spec, lexical, vocabulary) => compileConstraint(spec, lexical, vocabulary, { grammarsDir: options.grammarsDir, constraintsDir: options.constraintsDir }),
    validateOutput: (spec, text) => {
      if (spec.type === 'json_schema' || spec.type === 'json_object') {
        const parsed = parseJson(text);
        if (!parsed.ok) return { ok: false, error: `output is not JSON: ${parsed.error}` };
        if (spec.type === 'json_object') {
          const value = parsed.value;
          return value !== null && typeof value === 'object' && !Array.isArray(value) ? { ok: true } : { ok: false, error: 'output is not a JSON object' };
        }
        const validate = schemaValidator(resolveSchema(spec));
        return validate(parsed.value) ? { ok: true } : { ok: false, error: 'output does not validate against its JSON Schema (ajv)' };
      }
      const key = JSON.stringify(spec);
      let constraint = byteConstraints.get(key);
      if (!constraint) {
        constraint = compileConstraint(spec, undefined, BYTE_VOCABULARY, { grammarsDir: options.grammarsDir, constraintsDir: options.constraintsDir });
        if (byteConstraints.size > 256) byteConstraints.clear();
        byteConstraints.set(key, constraint);
      }
      return matchesConstraint(constraint, text) ? { ok: true } : { ok: false, error: `output does not match its ${spec.type} constraint` };
    },
  };
}
