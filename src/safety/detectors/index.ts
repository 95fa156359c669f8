/**
 * The built-in input detectors (issue 7): `unicode`, `obfuscation`, `adversarial_suffix`, `backdoor_trigger`,
 * `jailbreak`, `prompt_injection`. Cheap ones (default policy): unicode, obfuscation, jailbreak, prompt_injection
 * (patterns + a linear ONNX classifier). Perplexity-based ones (strict policy): adversarial_suffix, backdoor_trigger;
 * they use `scorer` (an ONNX guard LM) when given, else the shipped character LM (models/guards/char-lm.*).
 */
import type { LanguageModelScorer } from '../../backends/language-model-scorer';
import type { Detector } from '../detector';
import { createAdversarialSuffixDetector } from './adversarial-suffix-detector';
import { createBackdoorTriggerDetector } from './backdoor-trigger-detector';
import { createCharNgramScorer } from './char-ngram-scorer';
import { createJailbreakDetector } from './jailbreak-detector';
import { defaultModelsDir } from './models-dir';
import { createObfuscationDetector } from './obfuscation-detector';
import { defaultClassifierPath, defaultWindowClassifierPath } from './onnx-text-classifier';
import { createPromptInjectionDetector } from './prompt-injection-detector';
import { createUnicodeDetector } from './unicode-detector';

export const BUILTIN_DETECTOR_IDS = ['unicode', 'obfuscation', 'adversarial_suffix', 'backdoor_trigger', 'jailbreak', 'prompt_injection'] as const;
export const CHEAP_DETECTOR_IDS = ['unicode', 'obfuscation', 'jailbreak', 'prompt_injection'] as const;

export interface BuiltinDetectorOptions {
  /** Guard LM for the perplexity detectors (e.g. createOnnxScorer(model)); default: the shipped character LM. */
  scorer?: LanguageModelScorer;
  /** Folder holding guards/ (default: the repository's models/, or REIN_MODELS_DIR). */
  modelsDir?: string;
  /** Sidecar JSON of another ONNX classifier for jailbreak/prompt_injection (see onnx-text-classifier.ts). */
  classifierPath?: string;
  /** Sidecar JSON of the window classifier (indirect-injection `instruction` head, adversarial `suffix` head). */
  windowClassifierPath?: string;
  /** adversarial_suffix LM component calibration for `scorer` (nats/token at 0.5, spread). */
  lmCenter?: number;
  lmScale?: number;
}

export function createBuiltinDetectors(options: BuiltinDetectorOptions = {}): Detector[] {
  const modelsDir = options.modelsDir ?? defaultModelsDir();
  const classifierPath = options.classifierPath ?? defaultClassifierPath(modelsDir);
  const windowClassifierPath = options.windowClassifierPath ?? defaultWindowClassifierPath(modelsDir);
  const backdoorScorer = options.scorer ?? createCharNgramScorer(modelsDir);
  const unicode = createUnicodeDetector();
  const jailbreak = createJailbreakDetector({ classifierPath });
  const promptInjection = createPromptInjectionDetector({ classifierPath, windowClassifierPath });
  const obfuscation = createObfuscationDetector({ scanners: () => [unicode, jailbreak, promptInjection] });
  const adversarialSuffix = createAdversarialSuffixDetector({
    modelsDir,
    classifierPath: windowClassifierPath,
    scorer: options.scorer,
    lmCenter: options.lmCenter,
    lmScale: options.lmScale,
  });
  const backdoorTrigger = createBackdoorTriggerDetector({ scorer: backdoorScorer, modelsDir });
  return [unicode, obfuscation, adversarialSuffix, backdoorTrigger, jailbreak, promptInjection];
}

export { createUnicodeDetector, createJailbreakDetector, createPromptInjectionDetector, createObfuscationDetector };
export { createAdversarialSuffixDetector, createBackdoorTriggerDetector, createCharNgramScorer };
export { stripTest } from './strip-test';
export type { StripTestResult, StripTestOptions } from './strip-test';
