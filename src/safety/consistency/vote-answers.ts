/**
 * voteAnswers: self-consistency voting for short answers (Wang et al. 2022): normalise each sampled
 * answer, take the most frequent one and its share of the votes. Normalisation follows the SQuAD
 * evaluation convention (lower case, punctuation deleted — except decimal points — and the articles a/an/the removed, whitespace
 * collapsed), plus Unicode NFKC, thousands separators dropped from numbers ("1,000" = "1000"), trailing
 * ".0" dropped ("3.0" = "3") and a leading "answer:" label removed. Ties go to the answer seen first.
 */

export interface VoteResult {
  /** The majority answer as first written (undefined when there is no non-empty answer). */
  answer?: string;
  /** Its normalised form. */
  normalized?: string;
  /** Votes for the majority answer / number of answers (0 when there are none). */
  share: number;
  votes: number;
  total: number;
  /** Every distinct normalised answer with its count, most votes first. */
  counts: Array<{ normalized: string; answer: string; votes: number }>;
}

export const VOTE_LIMITS = { maxAnswers: 256, maxAnswerChars: 4_000 } as const;

export function normalizeAnswer(answer: string): string {
  let text = answer.normalize('NFKC').toLowerCase().trim();
  text = text.replace(/^(?:final answer|answer)\s*[:\-]\s*/u, '');
  text = text.replace(/(\d),(?=\d{3}\b)/gu, '$1');
  text = text.replace(/(\d+)\.0+\b/gu, '$1');
  // Keep decimal points inside numbers; drop every other punctuation mark.
  text = text.replace(/(?<!\d)\.|\.(?!\d)/gu, '');
  text = text.replace(/[\p{P}\p{S}]/gu, (mark) => (mark === '.' ? mark : ''));
  text = text.replace(/\b(?:a|an|the)\b/gu, ' ');
  return text.replace(/\s+/gu, ' ').trim();
}

export function voteAnswers(answers: readonly string[]): VoteResult {
  if (answers.length > VOTE_LIMITS.maxAnswers) throw new RangeError(`at most ${VOTE_LIMITS.maxAnswers} answers can be voted on`);
  const tally = new Map<string, { answer: string; votes: number; first: number }>();
  answers.forEach((answer, index) => {
    const normalized = normalizeAnswer(answer.slice(0, VOTE_LIMITS.maxAnswerChars));
    if (normalized === '') return;
    const entry = tally.get(normalized);
    if (entry) entry.votes++;
    else tally.set(normalized, { answer: answer.trim(), votes: 1, first: index });
  });
  const counts = [...tally.entries()]
    .sort((a, b) => b[1].votes - a[1].votes || a[1].first - b[1].first)
    .map(([normalized, entry]) => ({ normalized, answer: entry.answer, votes: entry.votes }));
  const top = counts[0];
  return {
    answer: top?.answer,
    normalized: top?.normalized,
    share: top && answers.length > 0 ? top.votes / answers.length : 0,
    votes: top?.votes ?? 0,
    total: answers.length,
    counts,
  };
}
