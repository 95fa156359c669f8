/**
 * selectMostConsistent: for the `regenerate` action — among the output and its samples, the candidate
 * that the other candidates support best (each candidate is scored as a passage against all the others
 * with the same variant; the highest passage score wins, the output on ties). Costs one scoring per
 * candidate (for nli: candidates × sentences × others model calls), so the check runs it only on request.
 */
import { scoreConsistency, type ConsistencyOptions } from './self-consistency';

export interface MostConsistentSample {
  /** −1 = the output itself, otherwise the sample's index. */
  index: number;
  text: string;
  score: number;
}

export async function selectMostConsistent(output: string, samples: readonly string[], options: ConsistencyOptions): Promise<MostConsistentSample> {
  const candidates = [output, ...samples];
  let best: MostConsistentSample = { index: -1, text: output, score: -1 };
  for (let i = 0; i < candidates.length; i++) {
    const others = candidates.filter((_, j) => j !== i);
    if (others.length === 0) break;
    const result = await scoreConsistency({ passage: candidates[i], samples: others }, options);
    if (result.passageScore > best.score) best = { index: i - 1, text: candidates[i], score: result.passageScore };
  }
  return best;
}
