/**
 * The `jailbreak` detector: role-play personas (DAN and kin), restriction removal, refusal suppression, dual
 * responses, mode switches and override phrases (attack-patterns.ts), combined with the `jailbreak` head of the
 * trained classifier (models/guards/injection-classifier.onnx, or any classifier configured by its sidecar JSON).
 * Scores are calibrated so that 0.5 is the classifier's operating point at 1% out-of-fold FPR on the training part of
 * the dev sets, for each kind of negative separately (short instructions, long prompts, corpus paragraphs, harmful
 * requests, short questions about made-up names), so that short questions and long documents are both covered.
 */
import type { Detector, DetectorContext, DetectorResult } from '../detector';
import { scanPatterns } from './attack-patterns';
import { combineScores } from './combine-scores';
import { loadedTextClassifier, loadTextClassifier, type TextClassifier } from './onnx-text-classifier';

export const JAILBREAK_DETECTOR_VERSION = '1.0.0';

export interface JailbreakDetectorOptions {
  /** Sidecar JSON of the classifier; omit for patterns only (stated in every explanation). */
  classifierPath?: string;
  /** Head of the classifier to use (default `jailbreak`). */
  head?: string;
}

export function createJailbreakDetector(options: JailbreakDetectorOptions = {}): Detector {
  const head = options.head ?? 'jailbreak';
  /** Everything after the classifier: its raw probability (undefined when none is configured). */
  const resultFor = (text: string, classifier: TextClassifier | undefined, row: number[] | undefined): DetectorResult[] => {
    const patterns = scanPatterns(text, 'jailbreak', false);
    let classifierScore = 0;
    let raw: number | undefined;
    if (classifier && row) {
      raw = row[classifier.heads.indexOf(head)];
      classifierScore = classifier.calibrate(head, raw);
    }
    const score = combineScores(classifierScore, patterns.score);
    const families = patterns.families.join(', ');
    const explanation = [
      patterns.families.length ? `jailbreak patterns: ${families}` : 'no jailbreak patterns',
      options.classifierPath ? `classifier ${classifierScore.toFixed(2)}` : 'classifier not configured',
    ].join('; ');
    return [
      {
        score,
        explanation,
        spans: patterns.matches.slice(0, 10).map((match) => [match.start, match.end] as [number, number]),
        details: {
          pattern_score: patterns.score,
          classifier_score: classifierScore,
          classifier_raw: raw,
          families: patterns.families,
          matches: patterns.matches.slice(0, 5).map((match) => ({ family: match.family, text: match.text })),
        },
      },
    ];
  };
  return {
    id: 'jailbreak',
    version: JAILBREAK_DETECTOR_VERSION,
    async detect(text: string, _context: DetectorContext): Promise<DetectorResult[]> {
      if (!options.classifierPath) return resultFor(text, undefined, undefined);
      const classifier = await loadTextClassifier(options.classifierPath);
      const [row] = await classifier.classify([text]);
      return resultFor(text, classifier, row);
    },
    detectSync(text: string): DetectorResult[] | undefined {
      if (!options.classifierPath) return resultFor(text, undefined, undefined);
      const classifier = loadedTextClassifier(options.classifierPath);
      if (!classifier?.classifySync) return undefined;
      return resultFor(text, classifier, classifier.classifySync([text])[0]);
    },
  };
}
