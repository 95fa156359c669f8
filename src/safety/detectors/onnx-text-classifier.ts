/**
 * Text classifiers run with onnxruntime-node, configured by a sidecar JSON next to the .onnx file.
 *
 * Supported configurations (`type`):
 * - `hashed-ngram` (Rein's own, tools/train-injection-classifier): inputs `indices` int64 [batch, features] (0-padded)
 *   and `values` float32 [batch, features] (0 where padded), from hashed-ngram-features.ts; output `probabilities`
 *   float32 [batch, heads], sigmoid probabilities, one column per entry of `heads`.
 * - `transformer` (an exported Prompt Guard / DeBERTa-style sequence classifier): a Hugging Face `tokenizer.json`
 *   beside it (`tokenizer`), inputs `input_ids` int64 [batch, seq] and `attention_mask` int64 [batch, seq]
 *   (plus `token_type_ids` zeros if the model declares it), output `logits` float32 [batch, classes]; `heads` maps a
 *   head name to the class indices whose softmax probabilities are summed (e.g. {"jailbreak": [2], "injection": [1, 2]}).
 * Both carry `thresholds` {head: raw probability}: the operating point calibrated on dev data, which
 * `calibrate()` maps to a score of 0.5 (piecewise linear), so that a policy threshold of 0.5 means "as calibrated".
 */
import fs from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { GatewayError } from '../../errors/gateway-error';
import { parseJson } from '../../util/parse-json';
import { DEFAULT_FEATURE_DIMENSION, featurize, type FeatureNormalization } from './hashed-ngram-features';

export interface TextClassifierConfig {
  type: 'hashed-ngram' | 'transformer';
  /** Path of the .onnx file, relative to the sidecar. */
  model: string;
  version?: string;
  heads: string[] | Record<string, number[]>;
  thresholds: Record<string, number>;
  features?: { dimension?: number; normalize?: FeatureNormalization; prior_mass?: number };
  /** transformer only */
  tokenizer?: string;
  max_length?: number;
}

export interface TextClassifier {
  readonly id: string;
  readonly version: string;
  readonly heads: string[];
  /** Raw probabilities per text, one entry per head (in `heads` order). */
  classify(texts: string[]): Promise<number[][]>;
  /** Maps a raw probability of a head to a score where the calibrated threshold becomes 0.5. */
  calibrate(head: string, probability: number): number;
}

/** Piecewise-linear map with threshold → 0.5, 0 → 0, 1 → 1. */
export function calibrateProbability(probability: number, threshold: number): number {
  const p = Math.min(1, Math.max(0, probability));
  const t = Math.min(0.999, Math.max(0.001, threshold));
  return p < t ? (0.5 * p) / t : 0.5 + (0.5 * (p - t)) / (1 - t);
}

const sessions = new Map<string, Promise<TextClassifier>>();
const RECENT_RESULTS = 16;

/** Loads (once per path) the classifier described by a sidecar JSON. */
export function loadTextClassifier(sidecarPath: string): Promise<TextClassifier> {
  const resolved = path.resolve(sidecarPath);
  let loading = sessions.get(resolved);
  if (!loading) {
    loading = createTextClassifier(resolved);
    sessions.set(resolved, loading);
    loading.catch(() => sessions.delete(resolved));
  }
  return loading;
}

async function createTextClassifier(sidecarPath: string): Promise<TextClassifier> {
  let text: string;
  try {
    text = fs.readFileSync(sidecarPath, 'utf8');
  } catch (error) {
    throw new GatewayError('unavailable', `classifier config ${sidecarPath} cannot be read`, { cause: error });
  }
  const parsed = parseJson<TextClassifierConfig>(text);
  if (!parsed.ok || typeof parsed.value !== 'object' || parsed.value === null) {
    throw new GatewayError('internal_error', `classifier config ${sidecarPath} is not valid JSON`);
  }
  const config = parsed.value;
  const modelPath = path.resolve(path.dirname(sidecarPath), config.model);
  const session = await ort.InferenceSession.create(modelPath, { graphOptimizationLevel: 'all' });
  const id = path.basename(sidecarPath, '.json');
  const version = config.version ?? '0';
  const thresholds = config.thresholds ?? {};
  const calibrate = (head: string, probability: number) => calibrateProbability(probability, thresholds[head] ?? 0.5);
  if (config.type === 'hashed-ngram') {
    const heads = config.heads as string[];
    const dimension = config.features?.dimension ?? DEFAULT_FEATURE_DIMENSION;
    const normalization = config.features?.normalize ?? 'l2-presence';
    const priorMass = config.features?.prior_mass ?? 0;
    // jailbreak and prompt_injection classify the same text one after the other: keep the last few results.
    const recent = new Map<string, number[]>();
    const remember = (text: string, row: number[]) => {
      recent.set(text, row);
      if (recent.size > RECENT_RESULTS) recent.delete(recent.keys().next().value as string);
    };
    const classifyUncached = async (texts: string[]): Promise<number[][]> => {
        if (texts.length === 0) return [];
        const featureList = texts.map((item) => featurize(item, dimension, normalization, priorMass));
        const width = Math.max(1, ...featureList.map((features) => features.indices.length));
        const indices = new BigInt64Array(texts.length * width);
        const values = new Float32Array(texts.length * width);
        featureList.forEach((features, row) => {
          for (let k = 0; k < features.indices.length; k++) {
            indices[row * width + k] = BigInt(features.indices[k]);
            values[row * width + k] = features.values[k];
          }
        });
        const output = await session.run({
          indices: new ort.Tensor('int64', indices, [texts.length, width]),
          values: new ort.Tensor('float32', values, [texts.length, width]),
        });
        const probabilities = output.probabilities.data as Float32Array;
        return texts.map((_, row) => heads.map((__, head) => probabilities[row * heads.length + head]));
    };
    return {
      id,
      version,
      heads,
      calibrate,
      async classify(texts: string[]): Promise<number[][]> {
        if (texts.length === 1) {
          const cached = recent.get(texts[0]);
          if (cached) return [cached];
          const [row] = await classifyUncached(texts);
          remember(texts[0], row);
          return [row];
        }
        return classifyUncached(texts);
      },
    };
  }
  if (config.type === 'transformer') {
    if (!config.tokenizer) throw new GatewayError('internal_error', `classifier ${id}: a transformer needs "tokenizer"`);
    const { Tokenizer } = await import('@huggingface/tokenizers');
    const tokenizerPath = path.resolve(path.dirname(sidecarPath), config.tokenizer);
    const tokenizerJson = parseJson<object>(fs.readFileSync(tokenizerPath, 'utf8'));
    if (!tokenizerJson.ok) throw new GatewayError('internal_error', `tokenizer ${tokenizerPath} is not valid JSON`);
    const tokenizer = new Tokenizer(tokenizerJson.value, {});
    const headMap = config.heads as Record<string, number[]>;
    const heads = Object.keys(headMap);
    const maxLength = config.max_length ?? 512;
    return {
      id,
      version,
      heads,
      calibrate,
      async classify(texts: string[]): Promise<number[][]> {
        const results: number[][] = [];
        for (const item of texts) {
          const ids = tokenizer.encode(item).ids.slice(0, maxLength);
          const inputIds = new ort.Tensor('int64', BigInt64Array.from(ids.map((token: number) => BigInt(token))), [1, ids.length]);
          const feeds: Record<string, ort.Tensor> = {
            input_ids: inputIds,
            attention_mask: new ort.Tensor('int64', new BigInt64Array(ids.length).fill(1n), [1, ids.length]),
          };
          if (session.inputNames.includes('token_type_ids')) feeds.token_type_ids = new ort.Tensor('int64', new BigInt64Array(ids.length), [1, ids.length]);
          const output = await session.run(feeds);
          const logits = Array.from((output.logits ?? output[session.outputNames[0]]).data as Float32Array);
          const max = Math.max(...logits);
          const exps = logits.map((value) => Math.exp(value - max));
          const sum = exps.reduce((a, b) => a + b, 0);
          results.push(heads.map((head) => headMap[head].reduce((total, index) => total + exps[index] / sum, 0)));
        }
        return results;
      },
    };
  }
  throw new GatewayError('internal_error', `classifier ${id}: unknown type ${String((config as { type?: unknown }).type)}`);
}

/** The classifier shipped with Rein for whole prompts (jailbreak and direct-injection heads; L1 features). */
export function defaultClassifierPath(modelsDir: string): string {
  return path.join(modelsDir, 'guards', 'injection-classifier.json');
}

/** The classifier shipped with Rein for short windows (instruction and suffix heads; L2 features). */
export function defaultWindowClassifierPath(modelsDir: string): string {
  return path.join(modelsDir, 'guards', 'window-classifier.json');
}
