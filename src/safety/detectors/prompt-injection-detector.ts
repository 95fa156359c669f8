/**
 * The `prompt_injection` detector. Direct injection (role user/prompt/system): instruction override, system-prompt
 * extraction, fake turns, chat-template tokens, mode switches (attack-patterns.ts) combined with the classifier's
 * `injection` head. Indirect injection (role `tool` or `context`: data the model will read, not the user's
 * request): the document is cut into candidate windows (instruction-windows.ts) and the classifier's `instruction`
 * head asks "is this window an instruction to an assistant?" — a task pasted into an email is one, whatever its
 * topic — plus the patterns, including text that addresses the assistant ("…in your answer"). Each context has
 * its own calibration: 0.5 is the 1% FPR point on dev user prompts for direct injection and the 3% document-level
 * FPR point on dev documents for indirect injection.
 */
import type { Detector, DetectorContext, DetectorResult } from '../detector';
import { scanPatterns } from './attack-patterns';
import { combineScores } from './combine-scores';
import { instructionWindows } from './instruction-windows';
import { loadedTextClassifier, loadTextClassifier, type TextClassifier } from './onnx-text-classifier';

export const PROMPT_INJECTION_DETECTOR_VERSION = '1.0.0';
/** Highest score the direct-injection head gives on its own, without a pattern match (below a 0.5 threshold). */
export const DIRECT_HEAD_ALONE_CAP = 0.45;

export interface PromptInjectionDetectorOptions {
  classifierPath?: string;
  /** Classifier for the document windows (indirect mode); defaults to classifierPath. */
  windowClassifierPath?: string;
  /** Heads for the two contexts (defaults `injection` and `instruction`). */
  directHead?: string;
  indirectHead?: string;
  /** Let the direct head fire alone (for a configured classifier trained on real injections). */
  trustDirectHead?: boolean;
}

export function isIndirectRole(role: DetectorContext['role']): boolean {
  return role === 'tool' || role === 'context';
}

export function createPromptInjectionDetector(options: PromptInjectionDetectorOptions = {}): Detector {
  const directHead = options.directHead ?? 'injection';
  const indirectHead = options.indirectHead ?? 'instruction';
  /** The texts the classifier scores: the whole text (direct), or the document and its candidate windows (indirect). */
  const classifierInput = (text: string, indirect: boolean) => {
    const windows = indirect ? instructionWindows(text) : [];
    return { windows, texts: [text, ...windows.map((item) => item.text)] };
  };
  /** Everything after the classifier (`rows` undefined when none is configured). */
  const resultFor = (
    text: string,
    role: DetectorContext['role'],
    indirect: boolean,
    scored: { classifier: TextClassifier; windows: Array<{ text: string; start: number; end: number }>; rows: number[][] } | undefined,
    aborted: () => boolean,
  ): DetectorResult[] => {
    const patterns = scanPatterns(text, 'prompt_injection', indirect);
    let classifierScore = 0;
    let window: { text: string; start: number; end: number } | undefined;
    if (scored) {
      const { classifier, windows, rows } = scored;
      if (indirect) {
        // The window classifier scores the whole document with its direct head and every window with its
        // instruction head (one batch); documents are what it was calibrated on (3% document-level FPR).
        const windowIndex = classifier.heads.indexOf(indirectHead);
        classifierScore = classifier.calibrate(directHead, rows[0][classifier.heads.indexOf(directHead)]);
        for (let k = 0; k < windows.length; k++) {
          if (aborted()) break;
          const score = classifier.calibrate(indirectHead, rows[k + 1][windowIndex]);
          if (score > classifierScore) {
            classifierScore = score;
            window = windows[k];
          }
        }
      } else {
        classifierScore = classifier.calibrate(directHead, rows[0][classifier.heads.indexOf(directHead)]);
        // The shipped `injection` head learned from synthetic overrides only (there is no real direct-injection
        // dev set): alone it may not block ("Hello there" scores high on it); with any pattern it adds evidence.
        if (patterns.score === 0 && options.trustDirectHead !== true) classifierScore = Math.min(classifierScore, DIRECT_HEAD_ALONE_CAP);
      }
    }
    const score = combineScores(classifierScore, patterns.score);
    const spans: Array<[number, number]> = patterns.matches.slice(0, 10).map((match) => [match.start, match.end]);
    if (window) spans.push([window.start, window.end]);
    const parts = [patterns.families.length ? `injection patterns: ${patterns.families.join(', ')}` : 'no injection patterns'];
    if (!options.classifierPath) parts.push('classifier not configured');
    else if (window && classifierScore >= 0.5) parts.push(`instruction-like text in ${role} content: "${window.text.slice(0, 120)}" (${classifierScore.toFixed(2)})`);
    else parts.push(`classifier ${classifierScore.toFixed(2)}`);
    return [
      {
        score,
        explanation: parts.join('; '),
        spans,
        details: {
          mode: indirect ? 'indirect' : 'direct',
          pattern_score: patterns.score,
          classifier_score: classifierScore,
          families: patterns.families,
          window: window?.text.slice(0, 300),
          matches: patterns.matches.slice(0, 5).map((match) => ({ family: match.family, text: match.text })),
        },
      },
    ];
  };
  return {
    id: 'prompt_injection',
    version: PROMPT_INJECTION_DETECTOR_VERSION,
    async detect(text: string, context: DetectorContext): Promise<DetectorResult[]> {
      const indirect = isIndirectRole(context.role);
      if (!options.classifierPath) return resultFor(text, context.role, indirect, undefined, () => false);
      const direct = await loadTextClassifier(options.classifierPath);
      const classifier = indirect && options.windowClassifierPath ? await loadTextClassifier(options.windowClassifierPath) : direct;
      const { windows, texts } = classifierInput(text, indirect);
      const rows = await classifier.classify(indirect ? texts : [text]);
      return resultFor(text, context.role, indirect, { classifier, windows, rows }, () => context.signal.aborted);
    },
    detectSync(text: string, context: DetectorContext): DetectorResult[] | undefined {
      const indirect = isIndirectRole(context.role);
      if (!options.classifierPath) return resultFor(text, context.role, indirect, undefined, () => false);
      const direct = loadedTextClassifier(options.classifierPath);
      const classifier = indirect && options.windowClassifierPath ? loadedTextClassifier(options.windowClassifierPath) : direct;
      if (!direct || !classifier?.classifySync) return undefined;
      const { windows, texts } = classifierInput(text, indirect);
      // Synchronous: nothing can abort it half-way, so the window loop never stops early.
      return resultFor(text, context.role, indirect, { classifier, windows, rows: classifier.classifySync(indirect ? texts : [text]) }, () => false);
    },
  };
}
