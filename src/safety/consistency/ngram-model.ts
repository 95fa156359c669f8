/**
 * NgramModel: SelfCheckGPT's n-gram "language model" (Manakul et al. 2023, selfcheckgpt/modeling_ngram.py),
 * rebuilt exactly: texts are split into sentences, lower-cased, tokenized; every n-gram (left-padded with
 * `<s>`, so one per token) is counted; `train(k)` gives p(g) = (count(g) + k) / (total + k·|types|), where
 * the types include `<unk>` (count 0); an unseen n-gram gets p(<unk>). For n = 1 this is the paper's
 * unigram model. Note that for n > 1 the probability is of the whole n-gram (a joint frequency), not a
 * conditional one — as in the reference code.
 */
import { splitSentences } from './sentence-splitter';
import { tokenizeWords } from './word-tokenizer';

export const UNKNOWN = '<unk>';
const LEFT_PAD = '<s>';
/** Joins the words of an n-gram into one map key; a control character cannot occur inside a token. */
const SEPARATOR = '\u0001';

export interface NgramScores {
  /** Per sentence: mean of −log p over its n-grams (the paper's "avg"). */
  average: number[];
  /** Per sentence: max of −log p over its n-grams (the paper's "max"). */
  maximum: number[];
  /** The n-gram keys of each sentence and their −log p (for explanations). */
  tokens: Array<Array<{ text: string; negativeLogProbability: number }>>;
}

export class NgramModel {
  readonly n: number;
  private readonly counts = new Map<string, number>([[UNKNOWN, 0]]);
  private total = 0;
  private denominator = 0;
  private smoothing = 0;

  constructor(n = 1) {
    if (!Number.isInteger(n) || n < 1 || n > 8) throw new RangeError(`n-gram order must be an integer in [1, 8], got ${n}`);
    this.n = n;
  }

  /** The n-gram keys of one sentence (already lower-cased), one per token. */
  ngramsOf(sentence: string): string[] {
    const tokens = tokenizeWords(sentence).map((token) => token.text);
    if (this.n === 1) return tokens;
    const padded = [...new Array<string>(this.n - 1).fill(LEFT_PAD), ...tokens];
    const keys: string[] = [];
    for (let i = 0; i < tokens.length; i++) keys.push(padded.slice(i, i + this.n).join(SEPARATOR));
    return keys;
  }

  add(text: string): void {
    // Split before lower-casing: the splitter looks for capitals at sentence starts.
    for (const sentence of splitSentences(text)) {
      for (const key of this.ngramsOf(sentence.text.toLowerCase())) {
        this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
        this.total++;
      }
    }
  }

  /** Add-k smoothing; SelfCheckGPT uses k = 1. */
  train(k = 1): void {
    this.smoothing = k;
    this.denominator = this.total + k * this.counts.size;
  }

  /** The smoothing denominator: total n-gram count + k·|types| (after train()). */
  get normalizer(): number {
    return this.denominator;
  }

  probability(key: string): number {
    const count = this.counts.get(key) ?? this.counts.get(UNKNOWN) ?? 0;
    return (count + this.smoothing) / this.denominator;
  }

  evaluate(sentences: string[]): NgramScores {
    if (this.denominator === 0) throw new Error('NgramModel.evaluate called before train()');
    const result: NgramScores = { average: [], maximum: [], tokens: [] };
    for (const sentence of sentences) {
      const keys = this.ngramsOf(sentence.toLowerCase());
      const scored = keys.map((key) => ({ text: key.split(SEPARATOR).join(' '), negativeLogProbability: -Math.log(this.probability(key)) }));
      // An empty sentence has no evidence either way: score it as the unseen n-gram would be.
      const values = scored.length > 0 ? scored.map((token) => token.negativeLogProbability) : [-Math.log(this.probability(UNKNOWN))];
      let sum = 0;
      let maximum = -Infinity;
      for (const value of values) {
        sum += value;
        if (value > maximum) maximum = value;
      }
      result.average.push(sum / values.length);
      result.maximum.push(maximum);
      result.tokens.push(scored);
    }
    return result;
  }
}
