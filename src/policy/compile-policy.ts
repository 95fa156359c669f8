/**
 * compilePolicy: policy source text → a validated, resolved, frozen Policy, or every error found
 * (JSON pointer, line, message). Steps: parse (YAML/JSON) → validate the document against
 * policies/policy.schema.json → check each entry's id against the registry and its parameters
 * against the check's own schema → resolve `extends` (parents' lists first, scalars override,
 * objects merged; cycles and missing parents are errors) → fill defaults → revision.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../util/package-root';
import Ajv, { type ErrorObject } from 'ajv';
import type { CheckRegistry } from './check-registry';
import { canonicalJson } from './canonical-json';
import { parsePolicyText } from './parse-policy-text';
import {
  DEFAULT_REFUSAL, ENTRY_FIELDS,
  type CheckEntry, type InputRole, type Policy, type PolicyValidationError,
} from './policy-types';
import type { Action } from '../safety/finding';

// The schema ships in policies/ (editors use it for completion); read it from the package root so that
// src/ (tests) and dist/src/ (the built CLI) both find it.
export const POLICY_SCHEMA: Record<string, unknown> = JSON.parse(fs.readFileSync(path.join(packageRoot(), 'policies', 'policy.schema.json'), 'utf8'));

const ajv = new Ajv({ allErrors: true, strict: false });
const validateSchema = ajv.compile(POLICY_SCHEMA);
const MAX_EXTENDS_DEPTH = 16;

export interface PolicySourceText {
  name: string;
  text: string;
  /** For error messages about parents. */
  file?: string;
}

export interface CompileOptions {
  registry: CheckRegistry;
  /** Finds another policy's source by name (for `extends`). */
  lookup(name: string): PolicySourceText | undefined;
}

export type CompileResult = { ok: true; policy: Policy } | { ok: false; errors: PolicyValidationError[] };

function ajvErrors(errors: ErrorObject[] | null | undefined, prefix = ''): Array<{ pointer: string; message: string }> {
  return (errors ?? []).map((error) => {
    let pointer = prefix + error.instancePath;
    let message = error.message ?? 'invalid';
    if (error.keyword === 'required') pointer += `/${(error.params as { missingProperty: string }).missingProperty}`;
    if (error.keyword === 'additionalProperties') {
      const property = (error.params as { additionalProperty: string }).additionalProperty;
      pointer += `/${property}`;
      message = `unknown property '${property}'`;
    }
    if (error.keyword === 'enum') message += `: ${(error.params as { allowedValues: unknown[] }).allowedValues.join(', ')}`;
    return { pointer, message };
  });
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Schema and registry validation of one document (not its parents). */
export function validatePolicyDocument(value: unknown, name: string | undefined, registry: CheckRegistry): Array<{ pointer: string; message: string }> {
  if (!validateSchema(value)) return ajvErrors(validateSchema.errors);
  const document = value as Record<string, unknown>;
  const errors: Array<{ pointer: string; message: string }> = [];
  if (name !== undefined && document.name !== undefined && document.name !== name) {
    errors.push({ pointer: '/name', message: `name '${String(document.name)}' does not match the policy's file name '${name}'` });
  }
  for (const stage of ['input', 'output'] as const) {
    const entries = (document[stage] ?? []) as Array<Record<string, unknown>>;
    entries.forEach((entry, index) => {
      const pointer = `/${stage}/${index}`;
      const id = entry.check as string;
      const info = registry.get(id);
      if (!info) {
        errors.push({ pointer: `${pointer}/check`, message: `unknown check '${id}' (known: ${registry.ids().join(', ')})` });
        return;
      }
      if (stage === 'input' && !info.missing && !info.detector) {
        errors.push({ pointer: `${pointer}/check`, message: `check '${id}' runs on output only` });
      }
      if (stage === 'output' && entry.applies_to !== undefined) {
        errors.push({ pointer: `${pointer}/applies_to`, message: 'applies_to selects input parts; it has no meaning on an output check' });
      }
      const params = splitParams(entry);
      const validator = registry.paramsValidator(id);
      if (validator && !validator(params)) errors.push(...ajvErrors(validator.errors, pointer));
      else errors.push(...registry.validateParams(id, params).map((error) => ({ ...error, pointer: pointer + error.pointer })));
    });
  }
  return errors;
}

function splitParams(entry: Record<string, unknown>): Record<string, unknown> {
  const params: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(entry)) {
    if (!(ENTRY_FIELDS as readonly string[]).includes(key)) params[key] = value;
  }
  return params;
}

/** Parent first: lists appended after the parent's, objects merged, scalars overridden. */
export function mergePolicyDocuments(parent: Record<string, unknown>, child: Record<string, unknown>): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...parent };
  for (const [key, value] of Object.entries(child)) {
    const inherited = merged[key];
    if (Array.isArray(value) && Array.isArray(inherited)) merged[key] = [...inherited, ...value];
    else if (isPlainObject(value) && isPlainObject(inherited)) merged[key] = mergePolicyDocuments(inherited, value);
    else merged[key] = value;
  }
  return merged;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const member of Object.values(value as Record<string, unknown>)) deepFreeze(member);
  }
  return value;
}

function withDefaults(document: Record<string, unknown>, name: string): Record<string, unknown> {
  const entries = (list: unknown) =>
    ((list ?? []) as Array<Record<string, unknown>>).map((entry) => ({ enforcement: 'enforce', fail_mode: 'closed', ...entry }));
  const resolved: Record<string, unknown> = {
    ...document,
    name,
    refusal: document.refusal ?? DEFAULT_REFUSAL,
    generation: document.generation ?? {},
    input: entries(document.input),
    output: entries(document.output),
    audit: { keep: 'redacted', ...((document.audit as Record<string, unknown> | undefined) ?? {}) },
  };
  delete resolved.extends;
  return resolved;
}

function toEntries(list: Array<Record<string, unknown>>, stage: 'input' | 'output'): CheckEntry[] {
  return list.map((entry, index) => ({
    check: entry.check as string,
    id: entry.id as string | undefined,
    threshold: entry.threshold as number | undefined,
    action: entry.action as Action,
    enforcement: entry.enforcement as 'enforce' | 'shadow',
    fail_mode: entry.fail_mode as 'closed' | 'open',
    applies_to: entry.applies_to as InputRole[] | undefined,
    timeout_ms: entry.timeout_ms as number | undefined,
    params: splitParams(entry),
    pointer: `/${stage}/${index}`,
  }));
}

export function compilePolicy(source: PolicySourceText, options: CompileOptions): CompileResult {
  const parsed = parsePolicyText(source.text);
  if (!parsed.ok) return parsed;
  const { value, lineOf } = parsed.parsed;
  const located = (errors: Array<{ pointer: string; message: string; file?: string }>): PolicyValidationError[] =>
    errors.map((error) => ({ ...error, line: error.file ? undefined : lineOf(error.pointer) }));

  const ownErrors = validatePolicyDocument(value, source.name, options.registry);
  if (ownErrors.length > 0) return { ok: false, errors: located(ownErrors) };

  // Resolve the extends chain, nearest parent first.
  let document = value as Record<string, unknown>;
  const ancestry: string[] = [];
  const seen = new Set([source.name]);
  let parentName = document.extends as string | undefined;
  const chain: Array<Record<string, unknown>> = [document];
  while (parentName !== undefined) {
    if (seen.has(parentName)) {
      return { ok: false, errors: located([{ pointer: '/extends', message: `extends cycle: ${[...seen, parentName].join(' → ')}` }]) };
    }
    if (ancestry.length >= MAX_EXTENDS_DEPTH) {
      return { ok: false, errors: located([{ pointer: '/extends', message: `extends chain deeper than ${MAX_EXTENDS_DEPTH}` }]) };
    }
    seen.add(parentName);
    const parentSource = options.lookup(parentName);
    if (!parentSource) return { ok: false, errors: located([{ pointer: '/extends', message: `parent policy '${parentName}' not found` }]) };
    const parentParsed = parsePolicyText(parentSource.text);
    const parentErrors = parentParsed.ok
      ? validatePolicyDocument(parentParsed.parsed.value, parentName, options.registry)
      : parentParsed.errors;
    if (!parentParsed.ok || parentErrors.length > 0) {
      const summary = parentErrors.slice(0, 3).map((error) => `${error.pointer || '/'}: ${error.message}`).join('; ');
      return { ok: false, errors: located([{ pointer: '/extends', message: `parent policy '${parentName}' is invalid: ${summary}` }]) };
    }
    ancestry.push(parentName);
    const parentDocument = parentParsed.parsed.value as Record<string, unknown>;
    chain.unshift(parentDocument);
    parentName = parentDocument.extends as string | undefined;
  }
  document = chain.reduce((merged, next) => mergePolicyDocuments(merged, next));
  const resolved = withDefaults(document, source.name);
  const revision = `sha256:${crypto.createHash('sha256').update(canonicalJson(resolved)).digest('hex')}`;
  const policy: Policy = {
    name: source.name,
    description: resolved.description as string | undefined,
    refusal: resolved.refusal as string,
    generation: resolved.generation as Policy['generation'],
    input: toEntries(resolved.input as Array<Record<string, unknown>>, 'input'),
    output: toEntries(resolved.output as Array<Record<string, unknown>>, 'output'),
    audit: resolved.audit as Policy['audit'],
    revision,
    document: resolved,
    ancestry,
  };
  return { ok: true, policy: deepFreeze(policy) };
}
