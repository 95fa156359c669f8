/**
 * STRIP-style generation test for backdoor triggers (Gao et al. 2019, adapted to text generation): perturb the input
 * several ways (drop a share of the words, shuffle word order, replace words with others from the text), sample an
 * output for each, and measure how similar the outputs are. A clean input's outputs vary when its words are mangled;
 * an input carrying a trigger that dominates the model keeps producing the same output. The pipeline calls it with
 * a sampler bound to the request's model; `score` is in [0, 1] (mean pairwise token-Jaccard similarity of outputs,
 * rescaled from `baseline` — the similarity expected of unrelated samples — to 1).
 */
import { mulberry32 } from '../../util/mulberry32';

export interface StripTestOptions {
  /** Perturbed copies to sample (default 6). */
  perturbations?: number;
  /** Share of words changed in each copy (default 0.5: heavy). */
  strength?: number;
  seed?: number;
  /** Similarity at or below which the outputs count as unrelated (default 0.2). */
  baseline?: number;
}

export interface StripTestResult {
  score: number;
  meanSimilarity: number;
  outputs: string[];
  perturbed: string[];
}

export function perturb(text: string, kind: number, strength: number, random: () => number): string {
  const words = text.split(/\s+/).filter(Boolean);
  if (words.length < 2) return text;
  switch (kind % 3) {
    case 0:
      return words.filter(() => random() >= strength).join(' ') || words[0];
    case 1: {
      const shuffled = [...words];
      for (let index = shuffled.length - 1; index > 0; index--) {
        const other = Math.floor(random() * (index + 1));
        [shuffled[index], shuffled[other]] = [shuffled[other], shuffled[index]];
      }
      return shuffled.join(' ');
    }
    default:
      return words.map((word) => (random() < strength ? words[Math.floor(random() * words.length)] : word)).join(' ');
  }
}

export function tokenJaccard(a: string, b: string): number {
  const left = new Set(a.toLowerCase().split(/\s+/).filter(Boolean));
  const right = new Set(b.toLowerCase().split(/\s+/).filter(Boolean));
  if (left.size === 0 && right.size === 0) return 1;
  let shared = 0;
  for (const token of left) if (right.has(token)) shared++;
  return shared / (left.size + right.size - shared);
}

export async function stripTest(text: string, sample: (text: string) => Promise<string>, options: StripTestOptions = {}): Promise<StripTestResult> {
  const count = Math.max(2, Math.min(options.perturbations ?? 6, 32));
  const strength = options.strength ?? 0.5;
  const baseline = options.baseline ?? 0.2;
  const random = mulberry32(options.seed ?? 1);
  const perturbed = Array.from({ length: count }, (_, index) => perturb(text, index, strength, random));
  const outputs: string[] = [];
  for (const input of perturbed) outputs.push(await sample(input));
  let total = 0;
  let pairs = 0;
  for (let i = 0; i < outputs.length; i++) {
    for (let j = i + 1; j < outputs.length; j++) {
      total += tokenJaccard(outputs[i], outputs[j]);
      pairs++;
    }
  }
  const meanSimilarity = pairs ? total / pairs : 0;
  const score = Math.min(1, Math.max(0, (meanSimilarity - baseline) / (1 - baseline)));
  return { score, meanSimilarity, outputs, perturbed };
}
