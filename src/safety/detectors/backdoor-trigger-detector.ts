/**
 * The `backdoor_trigger` detector, ONION-style (Qi et al. 2021): for each word, the drop in the guard LM's
 * per-token surprisal when that word alone is removed. A trigger is a word the text does not need: removing it makes
 * the text much more fluent than removing any other word. The evidence is the leading suspect's drop measured
 * against the spread of the others' (a robust z-score: (top - median) / MAD), so a text full of rare words does not
 * look poisoned and no list of known trigger words is involved. `details.suspects` holds the top two; `sanitized`
 * drops the words whose z-score crosses the calibrated line.
 *
 * Cost: one LM pass per word (batched through `scoreBatch` where the scorer has it); bounded by MAX_SEGMENTS
 * sentences of at most MAX_SEGMENT_WORDS words. Calibration (attributable surprisal at 0.5) is per scorer, in
 * models/guards/backdoor-trigger.json, fitted on the training part of the dev SST-2 poisoned/clean twins.
 *
 * Also exports stripTest: the STRIP-style generation test (perturb the input several ways, sample, and see whether
 * the output stays fixed — a dominating trigger keeps it fixed).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { LanguageModelScorer, TokenScore } from '../../backends/language-model-scorer';
import type { Detector, DetectorContext, DetectorResult } from '../detector';
import { parseJson } from '../../util/parse-json';

export const BACKDOOR_TRIGGER_DETECTOR_VERSION = '1.0.0';
export const MAX_SEGMENTS = 8;
export const MAX_SEGMENT_WORDS = 48;
/** Nats per token: below this spread, differences between words are noise. */
const MAD_FLOOR = 0.25;

export interface Suspect {
  word: string;
  start: number;
  end: number;
  /** Surprisal the word accounts for (nats per removed token) above the text's mean per token. */
  drop: number;
  /** (drop - median of drops) / MAD. */
  z: number;
}

export interface BackdoorCalibration {
  /** The leading suspect's attributable surprisal (nats/token above the text's mean) that maps to 0.5. */
  drop_at_half: number;
  /** Logistic spread in the same unit. */
  drop_scale: number;
}

interface Word {
  text: string;
  start: number;
  end: number;
}

function words(text: string): Word[] {
  const result: Word[] = [];
  const pattern = /\S+/g;
  for (let match = pattern.exec(text); match !== null; match = pattern.exec(text)) result.push({ text: match[0], start: match.index, end: match.index + match[0].length });
  return result;
}

/** Sentences (split at . ! ? followed by space), long ones cut into chunks; at most MAX_SEGMENTS. */
function segments(text: string): Word[][] {
  const all = words(text);
  const result: Word[][] = [];
  let current: Word[] = [];
  for (const word of all) {
    current.push(word);
    if (/[.!?]["')]?$/.test(word.text) || current.length >= MAX_SEGMENT_WORDS) {
      result.push(current);
      current = [];
      if (result.length >= MAX_SEGMENTS) return result;
    }
  }
  if (current.length) result.push(current);
  return result.slice(0, MAX_SEGMENTS);
}

function totalSurprisal(scores: TokenScore[]): number {
  let sum = 0;
  for (const score of scores) sum -= score.logprob;
  return sum;
}

/**
 * Punctuation, clitics split off by tokenizers ("n't", "'s") and Penn Treebank bracket escapes (-lrb-, -rrb-) are
 * parts of ordinary text: they take part in the statistics but are never suspects.
 */
function canBeTrigger(word: string): boolean {
  if (!/[\p{L}\p{N}]/u.test(word)) return false;
  if (/^(n't|'[a-z]{1,2})$/i.test(word)) return false;
  return !/^-[lr][rcs]b-$/i.test(word);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** Leave-one-word-out surprisal drops for every word of every segment, with robust z-scores per segment. */
export async function onionSuspects(text: string, scorer: LanguageModelScorer, signal?: AbortSignal): Promise<Suspect[]> {
  const suspects: Suspect[] = [];
  for (const segment of segments(text)) {
    if (segment.length < 3) continue;
    const joined = (list: Word[]) => list.map((word) => word.text).join(' ');
    const variants = [joined(segment), ...segment.map((_, index) => joined(segment.filter((__, k) => k !== index)))];
    const scored = scorer.scoreBatch ? await scorer.scoreBatch(variants, signal) : await Promise.all(variants.map((variant) => scorer.score(variant, signal)));
    // A word's attributable surprisal: what removing it saves (its own tokens and its effect on the following ones),
    // per token removed, minus the text's mean per token. Long words do not win by length; a word that is hard to
    // predict and makes its neighbours hard to predict does.
    const base = totalSurprisal(scored[0]);
    const baseMean = base / Math.max(1, scored[0].length);
    const drops = segment.map((_, index) => {
      const removedTokens = Math.max(1, scored[0].length - scored[index + 1].length);
      return (base - totalSurprisal(scored[index + 1])) / removedTokens - baseMean;
    });
    const center = median(drops);
    // MAD with a floor: a segment of near-identical drops must not turn a tiny difference into a huge z.
    const mad = Math.max(median(drops.map((drop) => Math.abs(drop - center))), MAD_FLOOR);
    segment.forEach((word, index) => {
      if (!canBeTrigger(word.text)) return;
      suspects.push({ word: word.text, start: word.start, end: word.end, drop: drops[index], z: (drops[index] - center) / mad });
    });
  }
  return suspects.sort((a, b) => b.drop - a.drop);
}

export function loadBackdoorCalibration(modelsDir: string, scorerId: string): BackdoorCalibration | undefined {
  const file = path.join(modelsDir, 'guards', 'backdoor-trigger.json');
  if (!fs.existsSync(file)) return undefined;
  const parsed = parseJson<{ calibrations: Record<string, BackdoorCalibration> }>(fs.readFileSync(file, 'utf8'));
  return parsed.ok ? parsed.value.calibrations?.[scorerId] : undefined;
}

export interface BackdoorTriggerDetectorOptions {
  scorer: LanguageModelScorer;
  /** Calibration for this scorer; defaults to the shipped one for its id, else z 4 → 0.5. */
  calibration?: BackdoorCalibration;
  modelsDir?: string;
}

export function backdoorScore(drop: number, calibration: BackdoorCalibration): number {
  return 1 / (1 + Math.exp(-(drop - calibration.drop_at_half) / calibration.drop_scale));
}

export function createBackdoorTriggerDetector(options: BackdoorTriggerDetectorOptions): Detector {
  const calibration = options.calibration ?? (options.modelsDir ? loadBackdoorCalibration(options.modelsDir, options.scorer.id) : undefined) ?? { drop_at_half: 3, drop_scale: 0.5 };
  return {
    id: 'backdoor_trigger',
    version: BACKDOOR_TRIGGER_DETECTOR_VERSION,
    async detect(text: string, context: DetectorContext): Promise<DetectorResult[]> {
      const suspects = await onionSuspects(text, options.scorer, context.signal);
      if (suspects.length === 0) return [{ score: 0, explanation: 'too short for a leave-one-out test' }];
      const score = backdoorScore(suspects[0].drop, calibration);
      const flagged = suspects.filter((suspect) => backdoorScore(suspect.drop, calibration) >= 0.5);
      let sanitized: string | undefined;
      if (flagged.length) {
        const byStart = [...flagged].sort((a, b) => a.start - b.start);
        sanitized = '';
        let offset = 0;
        for (const suspect of byStart) {
          sanitized += text.slice(offset, suspect.start).replace(/ $/, '');
          offset = suspect.end;
        }
        sanitized += text.slice(offset);
        sanitized = sanitized.replace(/^ /, '');
      }
      const top = suspects.slice(0, 2).map((suspect) => ({ word: suspect.word, drop: Number(suspect.drop.toFixed(3)), z: Number(suspect.z.toFixed(2)), span: [suspect.start, suspect.end] }));
      return [
        {
          score,
          explanation: flagged.length
            ? `suspected trigger ${flagged.map((suspect) => `"${suspect.word}"`).join(', ')}: it accounts for ${suspects[0].drop.toFixed(2)} nats/token above the text's mean (z ${suspects[0].z.toFixed(1)} against the other words)`
            : `no word stands out (top suspect "${suspects[0].word}", ${suspects[0].drop.toFixed(2)} nats/token)`,
          spans: flagged.map((suspect) => [suspect.start, suspect.end] as [number, number]),
          sanitized,
          details: { suspects: top, scorer: options.scorer.id },
        },
      ];
    },
  };
}
