/**
 * probeConsistency: the self-consistency of a generator on a set of prompts, averaged over seeded runs —
 * for the demo-model test ("answers about facts in the training text score more consistent than answers
 * about entities the model never saw"). For each prompt and each seed, the answer (seed s) is scored
 * against `samples` further generations (seeds s + 1 … s + samples) with the chosen variant; the result is
 * the mean passage score per prompt and over all prompts. The generator is whatever the caller wires in
 * (the pipeline, a backend), so this file depends on no backend.
 */
import { scoreConsistency, type ConsistencyVariant } from './self-consistency';

export type SeededGenerator = (prompt: string, seed: number, temperature: number) => Promise<string>;

export interface ConsistencyProbeOptions {
  seeds: readonly number[];
  /** Extra samples per answer (default 4). */
  samples?: number;
  /** Sampling temperature for the answer and the samples (default 1). */
  temperature?: number;
  variant?: ConsistencyVariant;
}

export interface ConsistencyProbeResult {
  mean: number;
  prompts: Array<{ prompt: string; mean: number; scores: number[] }>;
}

export async function probeConsistency(generate: SeededGenerator, prompts: readonly string[], options: ConsistencyProbeOptions): Promise<ConsistencyProbeResult> {
  const sampleCount = options.samples ?? 4;
  const temperature = options.temperature ?? 1;
  const results: ConsistencyProbeResult['prompts'] = [];
  for (const prompt of prompts) {
    const scores: number[] = [];
    for (const seed of options.seeds) {
      const answer = await generate(prompt, seed, temperature);
      const samples: string[] = [];
      // Sample seeds (seed·1000 + i) stay clear of the answer seeds, so no sample repeats an answer.
      for (let i = 1; i <= sampleCount; i++) samples.push(await generate(prompt, seed * 1000 + i, temperature));
      const nonEmpty = samples.filter((sample) => sample.trim() !== '');
      const result = await scoreConsistency({ passage: answer, samples: nonEmpty.length > 0 ? nonEmpty : [''] }, { variant: options.variant ?? 'unigram-max' });
      scores.push(result.passageScore);
    }
    results.push({ prompt, mean: scores.reduce((sum, value) => sum + value, 0) / Math.max(1, scores.length), scores });
  }
  const all = results.flatMap((result) => result.scores);
  return { mean: all.reduce((sum, value) => sum + value, 0) / Math.max(1, all.length), prompts: results };
}
