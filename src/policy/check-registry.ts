/**
 * createCheckRegistry: the checks a policy can name, by id. Detectors (input side) and output checks
 * plug in here; a filter that is both registers under one id for both stages. A detector named in a
 * policy's `output` list runs on the output text (role `assistant`).
 *
 * `reservedIds` are ids the product knows but this build has not loaded (another module missing):
 * policies naming them still validate, and at run time such a check errors, which the entry's
 * fail_mode then handles — closed by default, so a missing check never silently allows.
 */
import Ajv, { type ValidateFunction } from 'ajv';
import type { Detector, OutputCheck } from '../safety/detector';
import type { CheckOffloader } from './check-worker-pool';

export interface CheckInfo {
  id: string;
  detector?: Detector;
  outputCheck?: OutputCheck;
  paramsSchema?: Record<string, unknown>;
  firesWhen: 'at_or_above' | 'below';
  defaultThreshold: number;
  /** Reserved id without an implementation in this build. */
  missing: boolean;
}

export interface CheckRegistry {
  get(id: string): CheckInfo | undefined;
  ids(): string[];
  /** ajv validator for the check's parameters (undefined when the check declares no schema). */
  paramsValidator(id: string): ValidateFunction | undefined;
  /** Extra parameter validation a check offers beyond its schema (e.g. regex patterns compile). */
  validateParams(id: string, params: Record<string, unknown>): Array<{ pointer: string; message: string }>;
  /**
   * Worker threads the engine may run this registry's builtin checks on (large texts only); they must
   * have been built from the same options as this registry (see withOffload).
   */
  readonly offload?: CheckOffloader;
}

/** The registry with an offloader attached: `registry` must come from loadBuiltinChecks with the pool's options. */
export function withOffload(registry: CheckRegistry, offload: CheckOffloader | undefined): CheckRegistry {
  return offload ? { ...registry, offload } : registry;
}

export interface CheckRegistryOptions {
  detectors?: readonly Detector[];
  outputChecks?: readonly OutputCheck[];
  reservedIds?: readonly string[];
}

/** Ids the product ships checks for (SPEC.md, issue 6); the builtin loader reserves those it could not load. */
export const WELL_KNOWN_CHECK_IDS = [
  'unicode', 'obfuscation', 'prompt_injection', 'jailbreak', 'adversarial_suffix', 'backdoor_trigger',
  'pii', 'secrets', 'blocklist', 'regex', 'length', 'language', 'self_consistency', 'vote', 'grounding',
] as const;

type ParamsHook = { validateParams?(params: Record<string, unknown>): Array<{ pointer: string; message: string }> };

export function createCheckRegistry(options: CheckRegistryOptions): CheckRegistry {
  const checks = new Map<string, CheckInfo>();
  const ensure = (id: string): CheckInfo => {
    let info = checks.get(id);
    if (!info) {
      info = { id, firesWhen: 'at_or_above', defaultThreshold: 0.5, missing: false };
      checks.set(id, info);
    }
    return info;
  };
  for (const detector of options.detectors ?? []) {
    const info = ensure(detector.id);
    info.detector = detector;
    info.paramsSchema ??= detector.paramsSchema;
    if (detector.firesWhen) info.firesWhen = detector.firesWhen;
    if ((detector as { firesBelow?: boolean }).firesBelow === true) info.firesWhen = 'below';
    if (detector.defaultThreshold !== undefined) info.defaultThreshold = detector.defaultThreshold;
  }
  for (const outputCheck of options.outputChecks ?? []) {
    const info = ensure(outputCheck.id);
    info.outputCheck = outputCheck;
    info.paramsSchema ??= outputCheck.paramsSchema;
    if (outputCheck.firesWhen) info.firesWhen = outputCheck.firesWhen;
    // The consistency checks declare `firesBelow: true` (same meaning as firesWhen: 'below').
    if ((outputCheck as { firesBelow?: boolean }).firesBelow === true) info.firesWhen = 'below';
    if (outputCheck.defaultThreshold !== undefined) info.defaultThreshold = outputCheck.defaultThreshold;
  }
  for (const id of options.reservedIds ?? []) {
    if (!checks.has(id)) checks.set(id, { id, firesWhen: id === 'self_consistency' || id === 'vote' || id === 'grounding' ? 'below' : 'at_or_above', defaultThreshold: 0.5, missing: true });
  }

  const ajv = new Ajv({ allErrors: true, strict: false, useDefaults: true });
  const validators = new Map<string, ValidateFunction | undefined>();

  return {
    get: (id) => checks.get(id),
    ids: () => [...checks.keys()].sort(),
    paramsValidator(id) {
      if (!validators.has(id)) {
        const schema = checks.get(id)?.paramsSchema;
        validators.set(id, schema ? ajv.compile(schema) : undefined);
      }
      return validators.get(id);
    },
    validateParams(id, params) {
      const info = checks.get(id);
      const hooks = [info?.detector, info?.outputCheck] as Array<ParamsHook | undefined>;
      const hook = hooks.find((candidate) => typeof candidate?.validateParams === 'function');
      return hook?.validateParams ? hook.validateParams(params) : [];
    },
  };
}
