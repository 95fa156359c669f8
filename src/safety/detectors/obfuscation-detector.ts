/**
 * The `obfuscation` detector: base64 / hex / URL-encoded / ROT13 / leetspeak runs are decoded (obfuscation-decoders.ts)
 * and the decoded text is scanned again by the other detectors; the score is the highest of theirs, or a low
 * presence score (readable natural language hidden in an encoding) when none fires. Nested encodings are decoded
 * up to MAX_DEPTH levels. Unicode tricks are undone first (the `unicode` detector's sanitizer), so that a homoglyph
 * or zero-width split cannot hide a run from the decoders.
 */
import type { Detector, DetectorContext, DetectorResult } from '../detector';
import { decodeObfuscatedRuns, type DecodedRun } from './obfuscation-decoders';
import { sanitizeUnicode } from './unicode-detector';

export const OBFUSCATION_DETECTOR_VERSION = '1.0.0';
const MAX_DEPTH = 2;
/** Readable text hidden in an encoding, with nothing else wrong with it: worth a note, not an action. */
const PRESENCE_SCORE = 0.35;

export interface ObfuscationDetectorOptions {
  /** The detectors that scan decoded text (the other built-ins; cheap ones by default). */
  scanners: () => Detector[];
}

export function createObfuscationDetector(options: ObfuscationDetectorOptions): Detector {
  const detector: Detector = {
    id: 'obfuscation',
    version: OBFUSCATION_DETECTOR_VERSION,
    async detect(text: string, context: DetectorContext): Promise<DetectorResult[]> {
      return scan(text, context, 0);
    },
  };

  async function scan(text: string, context: DetectorContext, depth: number): Promise<DetectorResult[]> {
    const runs = decodeObfuscatedRuns(sanitizeUnicode(text));
    if (runs.length === 0) return [{ score: 0, explanation: 'no encoded runs' }];
    let best: { score: number; run: DecodedRun; by: string; explanation: string } | undefined;
    for (const run of runs) {
      if (context.signal.aborted) break;
      for (const scanner of options.scanners()) {
        if (scanner.id === 'obfuscation') continue;
        const results = await scanner.detect(run.decoded, context);
        for (const result of results) {
          if (!best || result.score > best.score) best = { score: result.score, run, by: scanner.id, explanation: result.explanation };
        }
      }
      if (depth + 1 < MAX_DEPTH) {
        const nested = await scan(run.decoded, context, depth + 1);
        for (const result of nested) {
          if (!best || result.score > best.score) best = { score: result.score, run, by: 'obfuscation', explanation: result.explanation };
        }
      }
    }
    const encodings = [...new Set(runs.map((run) => run.encoding))];
    const spans = runs.map((run) => [run.start, run.end] as [number, number]);
    const decodedPreview = runs.map((run) => ({ encoding: run.encoding, decoded: run.decoded.slice(0, 200) }));
    if (!best || best.score < PRESENCE_SCORE) {
      return [{ score: PRESENCE_SCORE, explanation: `decoded ${encodings.join(', ')} text; nothing hostile in it`, spans, details: { runs: decodedPreview } }];
    }
    return [
      {
        score: best.score,
        explanation: `${best.run.encoding}-encoded text, decoded "${best.run.decoded.slice(0, 80)}": ${best.by} ${best.score.toFixed(2)} (${best.explanation})`,
        spans,
        details: { runs: decodedPreview, flagged_by: best.by },
      },
    ];
  }

  return detector;
}
