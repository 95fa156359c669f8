/**
 * The built-in output checks of the consistency family: `self_consistency`, `vote`, `grounding`.
 * All three declare `firesBelow: true` (their scores are support scores). The NLI model, when a folder is
 * configured, is loaded once on first use and shared by the checks.
 */
import type { OutputCheck } from '../detector';
import { loadNliModel, type NliModel } from '../consistency/nli-model';
import { createGroundingCheck } from './grounding-check';
import { createSelfConsistencyCheck } from './self-consistency-check';
import { createVoteCheck } from './vote-check';

export { createGroundingCheck } from './grounding-check';
export { createSelfConsistencyCheck } from './self-consistency-check';
export { createVoteCheck } from './vote-check';
export type { ConsistencyOutputCheck } from './consistency-output-check';

export interface BuiltinOutputCheckOptions {
  /** Folder with an MNLI-style cross-encoder: tokenizer.json, model.onnx, config.json (id2label). */
  nliModelDir?: string;
}

export function createBuiltinOutputChecks(options: BuiltinOutputCheckOptions = {}): OutputCheck[] {
  const directory = options.nliModelDir;
  const loadNli: (() => Promise<NliModel>) | undefined = directory ? () => loadNliModel(directory) : undefined;
  return [createSelfConsistencyCheck({ loadNli }), createVoteCheck(), createGroundingCheck({ loadNli })];
}
