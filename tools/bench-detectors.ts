/**
 * Detector latency benchmark (issue 7): the cheap detectors (unicode, obfuscation, jailbreak, prompt_injection) run
 * together on a ~2 kB prompt — p50/p99 of the sum, one after another on one thread; the perplexity detectors
 * (adversarial_suffix, backdoor_trigger) reported per 100 words; and the guard LM's throughput (tokens/s). With
 * `--model DIR` the ONNX guard model (loadOnnxModel + createOnnxScorer) is benchmarked as well.
 *
 * Run: npm run build && node dist/tools/bench-detectors.js [--runs N] [--model models/rein-demo] [--out FILE]
 * (or through ts-jest-free compilation: npx tsc -p tsconfig.json --outDir /tmp/rein-bench && node /tmp/rein-bench/tools/bench-detectors.js)
 */
import fs from 'node:fs';
import { parseArgs } from '../src/cli/args';
import type { LanguageModelScorer } from '../src/backends/language-model-scorer';
import type { Detector, DetectorContext } from '../src/safety/detector';
import { CHEAP_DETECTOR_IDS, createBuiltinDetectors } from '../src/safety/detectors/index';
import { createCharNgramScorer } from '../src/safety/detectors/char-ngram-scorer';
import { defaultModelsDir } from '../src/safety/detectors/models-dir';
import { percentile } from '../src/safety/eval/metrics';

const PARAGRAPH =
  'Please read the following customer message and draft a polite reply that answers each question in order. ' +
  'The customer writes: I ordered a pair of hiking boots three weeks ago and the tracking page still says the parcel ' +
  'is waiting at the regional depot. Could you tell me whether it has been lost, and if so, whether you can send a ' +
  'replacement in size 43 rather than 42? I would also like to know if the waterproof spray you mentioned on the ' +
  'product page is included, because it was not listed on the invoice. ';

function prompt2k(): string {
  let text = '';
  while (text.length < 2000) text += PARAGRAPH;
  return text.slice(0, 2048);
}

function context(): DetectorContext {
  return { role: 'user', params: {}, signal: new AbortController().signal };
}

async function time(runs: number, work: (index: number) => Promise<unknown>): Promise<number[]> {
  const samples: number[] = [];
  for (let index = 0; index < runs; index++) {
    const started = process.hrtime.bigint();
    await work(index);
    samples.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  return samples;
}

async function scorerThroughput(scorer: LanguageModelScorer, text: string, runs: number): Promise<number> {
  const tokens = (await scorer.score(text)).length;
  const samples = await time(runs, () => scorer.score(text));
  return tokens / (percentile(samples, 50) / 1000);
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2), { strings: ['runs', 'model', 'out'] });
  const runs = Number(args.values.runs ?? 200);
  const text = prompt2k();
  const words100 = text.split(/\s+/).slice(0, 100).join(' ');
  let scorer: LanguageModelScorer | undefined;
  if (args.values.model) {
    const { loadOnnxModel } = await import('../src/backends/onnx/onnx-model');
    const { createOnnxScorer } = await import('../src/backends/onnx/onnx-scorer');
    scorer = createOnnxScorer(await loadOnnxModel({ dir: args.values.model } as Parameters<typeof loadOnnxModel>[0]));
  }
  const detectors = createBuiltinDetectors({ scorer });
  const cheap = detectors.filter((detector) => (CHEAP_DETECTOR_IDS as readonly string[]).includes(detector.id));
  // Warm-up: ONNX sessions, vocabulary and LM tables load on first use.
  for (const detector of detectors) await detector.detect(text, context());
  // Each run gets a different text (a run number appended), so that the classifier's small result cache helps only
  // within a run (jailbreak then prompt_injection on the same text), as it does in the gateway.
  const variant = (index: number) => `${text.slice(0, 2030)} #${index}`;
  const cheapSamples = await time(runs, async (index) => {
    for (const detector of cheap) await detector.detect(variant(index), context());
  });
  const perDetector: Record<string, { p50: number; p99: number }> = {};
  for (const detector of cheap) {
    const samples = await time(runs, (index) => detector.detect(variant(index + runs), context()));
    perDetector[detector.id] = { p50: percentile(samples, 50), p99: percentile(samples, 99) };
  }
  const perplexity: Record<string, { p50_ms_per_100_words: number; p99_ms_per_100_words: number; scorer: string }> = {};
  for (const detector of detectors.filter((item: Detector) => item.id === 'adversarial_suffix' || item.id === 'backdoor_trigger')) {
    const samples = await time(Math.max(5, Math.floor(runs / 10)), () => detector.detect(words100, context()));
    perplexity[detector.id] = { p50_ms_per_100_words: percentile(samples, 50), p99_ms_per_100_words: percentile(samples, 99), scorer: scorer?.id ?? 'char-lm' };
  }
  const charLm = createCharNgramScorer(defaultModelsDir());
  const result = {
    prompt_chars: text.length,
    runs,
    cheap_detectors: cheap.map((detector) => detector.id),
    cheap_total_ms: { p50: percentile(cheapSamples, 50), p99: percentile(cheapSamples, 99) },
    cheap_per_detector_ms: perDetector,
    perplexity_detectors: perplexity,
    guard_lm_tokens_per_s: {
      'char-lm (tokens = characters)': await scorerThroughput(charLm, text, 50),
      ...(scorer ? { [scorer.id]: await scorerThroughput(scorer, words100, 5) } : {}),
    },
  };
  const json = `${JSON.stringify(result, null, 2)}\n`;
  if (args.values.out) fs.writeFileSync(args.values.out, json);
  process.stdout.write(json);
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
