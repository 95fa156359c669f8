/**
 * LanguageModelScorer: per-token log-probabilities of a text under a causal language model.
 * The perplexity-based detectors (adversarial suffix, backdoor trigger) use it; the ONNX backend provides it.
 */
export interface TokenScore {
  token: number;
  /** The token's text, and its [start, end) offsets in the scored string (UTF-16 code units). */
  text: string;
  start: number;
  end: number;
  /** Natural-log probability of this token given the ones before it (the first token: given BOS). */
  logprob: number;
}

export interface LanguageModelScorer {
  readonly id: string;
  score(text: string, signal?: AbortSignal): Promise<TokenScore[]>;
  /** Scores many texts in one batch where the model allows (ONION scores one sentence per removed word). */
  scoreBatch?(texts: string[], signal?: AbortSignal): Promise<TokenScore[][]>;
}
