/** Shared fixtures for the policy tests: real filters plus small detectors with known behaviour. */
import type { Detector, DetectorResult, OutputCheck } from '../../../src/safety/detector';
import { createBuiltinFilters } from '../../../src/safety/filters';
import { createCheckRegistry, type CheckRegistry } from '../../../src/policy/check-registry';
import { compilePolicy } from '../../../src/policy/compile-policy';
import type { Policy } from '../../../src/policy/policy-types';

/** Scores 0.9 when the text contains "ignore previous", else 0.1. */
export const keywordDetector: Detector = {
  id: 'prompt_injection',
  version: 'test',
  async detect(text) {
    const hit = /ignore (all )?previous/i.test(text);
    return [{ score: hit ? 0.9 : 0.1, explanation: hit ? 'override phrase' : 'clean' }];
  },
};

export const throwingDetector: Detector = {
  id: 'jailbreak',
  version: 'test',
  async detect() {
    throw new Error('model file missing');
  },
};

/** Never resolves unless aborted; records whether it saw the abort. */
export const slowDetector: Detector & { sawAbort: boolean } = {
  id: 'adversarial_suffix',
  version: 'test',
  sawAbort: false,
  detect(_text, context) {
    return new Promise<DetectorResult[]>((_, reject) => {
      context.signal.addEventListener('abort', () => {
        slowDetector.sawAbort = true;
        reject(new Error('aborted'));
      });
    });
  },
};

/** A support-score check: fires when below the threshold. */
export const supportCheck: OutputCheck = {
  id: 'self_consistency',
  version: 'test',
  mode: 'final',
  firesWhen: 'below',
  async check(output, context) {
    const samples = context.samples ?? [];
    const support = samples.length === 0 ? 1 : samples.filter((sample) => sample.includes(output)).length / samples.length;
    return [{ score: support, explanation: `support ${support}`, details: { score: support, sentences: [{ text: output, score: support }] } }];
  },
};

export function testRegistry(): CheckRegistry {
  const filters = createBuiltinFilters({ redactionKey: 'test-key' });
  return createCheckRegistry({
    detectors: [...filters, keywordDetector, throwingDetector, slowDetector],
    outputChecks: [...filters, supportCheck],
    reservedIds: ['grounding'],
  });
}

export function policyFrom(text: string, registry = testRegistry(), others: Record<string, string> = {}): Policy {
  const result = compilePolicy({ name: 'test', text }, { registry, lookup: (name) => (others[name] ? { name, text: others[name] } : undefined) });
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.policy;
}
