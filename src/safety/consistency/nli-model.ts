/**
 * NliModel: an MNLI-style cross-encoder exported to ONNX (any BERT/RoBERTa/DeBERTa-like export), loaded
 * offline from a folder holding `tokenizer.json`, `model.onnx` and `config.json` (whose `id2label` names
 * the entailment / neutral / contradiction outputs; `max_position_embeddings` or `rein_max_length`
 * bounds the input). Pairs are encoded premise first, hypothesis second, through the tokenizer's own
 * pair template; a premise too long for the window is cut (the hypothesis is kept whole where it fits),
 * like Hugging Face's `truncation="only_first"`. Sessions are cached by folder: load once, use many times.
 */
import fs from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { Tokenizer } from '@huggingface/tokenizers';
import { parseJson } from '../../util/parse-json';
import { GatewayError } from '../../errors/gateway-error';

export interface NliPair {
  premise: string;
  hypothesis: string;
}

export interface NliProbabilities {
  /** Softmax over the three labels. */
  entailment: number;
  neutral: number;
  contradiction: number;
  /** Softmax over entailment and contradiction only (neutral dropped), as SelfCheckGPT's NLI variant. */
  contradictionVsEntailment: number;
}

export interface NliModel {
  readonly id: string;
  classify(pairs: readonly NliPair[], signal?: AbortSignal): Promise<NliProbabilities[]>;
}

export interface NliModelOptions {
  /** Pairs per onnxruntime call. */
  batchSize?: number;
  /** Token window; defaults to config.json's rein_max_length / max_position_embeddings, at most 512. */
  maxLength?: number;
}

/** Characters kept per window token before tokenizing a premise (a generous bound on token length). */
const PREMISE_CHARS_PER_TOKEN = 16;

type LabelName = 'entailment' | 'neutral' | 'contradiction';

function labelIndexes(config: Record<string, unknown>): Record<LabelName, number> {
  const id2label = config.id2label as Record<string, string> | undefined;
  if (!id2label || typeof id2label !== 'object') throw new GatewayError('internal_error', 'NLI model config.json has no id2label');
  const found: Partial<Record<LabelName, number>> = {};
  for (const [index, label] of Object.entries(id2label)) {
    const name = String(label).toLowerCase();
    for (const wanted of ['entailment', 'neutral', 'contradiction'] as const) if (name.startsWith(wanted.slice(0, 6))) found[wanted] = Number(index);
  }
  if (found.entailment === undefined || found.neutral === undefined || found.contradiction === undefined) {
    throw new GatewayError('internal_error', `NLI model id2label must name entailment, neutral and contradiction, got ${JSON.stringify(id2label)}`);
  }
  return found as Record<LabelName, number>;
}

function softmax(values: number[]): number[] {
  const maximum = Math.max(...values);
  const exps = values.map((value) => Math.exp(value - maximum));
  const sum = exps.reduce((total, value) => total + value, 0);
  return exps.map((value) => value / sum);
}

class OnnxNliModel implements NliModel {
  readonly id: string;

  constructor(
    private readonly session: ort.InferenceSession,
    private readonly tokenizer: Tokenizer,
    private readonly labels: Record<LabelName, number>,
    private readonly maxLength: number,
    private readonly batchSize: number,
    directory: string,
  ) {
    this.id = `nli:${path.basename(directory)}`;
  }

  /**
   * Premise token ids without special tokens, cached for one classify() call (a sample is the premise of
   * every sentence). The text is first cut to PREMISE_CHARS_PER_TOKEN characters per window token, so a
   * 1,000-word sample is not tokenized whole for a 512-token window.
   */
  private premiseIds(premise: string, cache: Map<string, number[]>): number[] {
    let ids = cache.get(premise);
    if (!ids) {
      ids = this.tokenizer.encode(premise.slice(0, this.maxLength * PREMISE_CHARS_PER_TOKEN), { add_special_tokens: false }).ids;
      cache.set(premise, ids);
    }
    return ids;
  }

  private encodePair(pair: NliPair, cache: Map<string, number[]>): { ids: number[]; typeIds: number[] } {
    const premiseIds = this.premiseIds(pair.premise, cache);
    // A hypothesis longer than the window is cut in characters first (the window keeps its head anyway).
    const hypothesis = pair.hypothesis.slice(0, this.maxLength * PREMISE_CHARS_PER_TOKEN);
    const hypothesisLength = this.tokenizer.encode(hypothesis, { add_special_tokens: false }).ids.length;
    // Special tokens of the pair template (3 for BERT, 4 for RoBERTa): measured on the shortest pair.
    const specials = this.pairOverhead();
    let keep = Math.min(premiseIds.length, Math.max(1, this.maxLength - hypothesisLength - specials));
    let premise = keep === premiseIds.length && pair.premise.length <= this.maxLength * PREMISE_CHARS_PER_TOKEN ? pair.premise : this.tokenizer.decode(premiseIds.slice(0, keep), { skip_special_tokens: true });
    let encoding = this.tokenizer.encode(premise, { text_pair: hypothesis, return_token_type_ids: true });
    // Decoding and re-encoding can shift a token or two at the cut: shrink until it fits.
    while (encoding.ids.length > this.maxLength && keep > 1) {
      keep = Math.max(1, keep - (encoding.ids.length - this.maxLength));
      premise = this.tokenizer.decode(premiseIds.slice(0, keep), { skip_special_tokens: true });
      encoding = this.tokenizer.encode(premise, { text_pair: hypothesis, return_token_type_ids: true });
    }
    let ids = encoding.ids;
    let typeIds = encoding.token_type_ids ?? ids.map(() => 0);
    if (ids.length > this.maxLength) {
      // The hypothesis alone overflows the window: keep the head.
      ids = ids.slice(0, this.maxLength);
      typeIds = typeIds.slice(0, this.maxLength);
    }
    return { ids, typeIds };
  }

  private overhead?: number;

  private pairOverhead(): number {
    if (this.overhead === undefined) {
      const pair = this.tokenizer.encode('a', { text_pair: 'a' }).ids.length;
      const bare = 2 * this.tokenizer.encode('a', { add_special_tokens: false }).ids.length;
      this.overhead = Math.max(0, pair - bare);
    }
    return this.overhead;
  }

  async classify(pairs: readonly NliPair[], signal?: AbortSignal): Promise<NliProbabilities[]> {
    const results: NliProbabilities[] = [];
    const premises = new Map<string, number[]>();
    for (let offset = 0; offset < pairs.length; offset += this.batchSize) {
      if (signal?.aborted) throw new GatewayError('backend_timeout', 'NLI scoring aborted');
      const batch = pairs.slice(offset, offset + this.batchSize).map((pair) => this.encodePair(pair, premises));
      const width = Math.max(...batch.map((item) => item.ids.length));
      const inputIds = new BigInt64Array(batch.length * width);
      const attention = new BigInt64Array(batch.length * width);
      const typeIds = new BigInt64Array(batch.length * width);
      batch.forEach((item, row) => {
        for (let i = 0; i < item.ids.length; i++) {
          inputIds[row * width + i] = BigInt(item.ids[i]);
          attention[row * width + i] = 1n;
          typeIds[row * width + i] = BigInt(item.typeIds[i] ?? 0);
        }
      });
      const dims = [batch.length, width];
      const feeds: Record<string, ort.Tensor> = {};
      for (const name of this.session.inputNames) {
        if (name === 'input_ids') feeds[name] = new ort.Tensor('int64', inputIds, dims);
        else if (name === 'attention_mask') feeds[name] = new ort.Tensor('int64', attention, dims);
        else if (name === 'token_type_ids') feeds[name] = new ort.Tensor('int64', typeIds, dims);
        else throw new GatewayError('internal_error', `NLI model has an unexpected input '${name}'`);
      }
      const output = await this.session.run(feeds);
      const logits = output[this.session.outputNames[0]];
      const data = logits.data as Float32Array;
      const classes = logits.dims[logits.dims.length - 1];
      for (let row = 0; row < batch.length; row++) {
        const rowLogits = Array.from(data.subarray(row * classes, (row + 1) * classes));
        const probabilities = softmax(rowLogits);
        const pairwise = softmax([rowLogits[this.labels.entailment], rowLogits[this.labels.contradiction]]);
        results.push({
          entailment: probabilities[this.labels.entailment],
          neutral: probabilities[this.labels.neutral],
          contradiction: probabilities[this.labels.contradiction],
          contradictionVsEntailment: pairwise[1],
        });
      }
    }
    return results;
  }
}

const cache = new Map<string, Promise<NliModel>>();

async function load(directory: string, options: NliModelOptions): Promise<NliModel> {
  const read = (name: string): Record<string, unknown> => {
    const file = path.join(directory, name);
    if (!fs.existsSync(file)) throw new GatewayError('unavailable', `NLI model: ${file} is missing`);
    const parsed = parseJson<Record<string, unknown>>(fs.readFileSync(file, 'utf8'));
    if (!parsed.ok) throw new GatewayError('unavailable', `NLI model: ${file} is not JSON (${parsed.error})`);
    return parsed.value;
  };
  const config = read('config.json');
  const tokenizerJson = read('tokenizer.json');
  const tokenizerConfig = fs.existsSync(path.join(directory, 'tokenizer_config.json')) ? read('tokenizer_config.json') : {};
  const tokenizer = new Tokenizer(tokenizerJson, tokenizerConfig);
  const modelFile = path.join(directory, 'model.onnx');
  if (!fs.existsSync(modelFile)) throw new GatewayError('unavailable', `NLI model: ${modelFile} is missing`);
  const session = await ort.InferenceSession.create(modelFile);
  const configured = Number(config.rein_max_length ?? config.max_position_embeddings ?? 512);
  const maxLength = Math.min(options.maxLength ?? configured, configured, 512);
  return new OnnxNliModel(session, tokenizer, labelIndexes(config), maxLength, options.batchSize ?? 16, directory);
}

/** Loads (once per folder) an ONNX NLI cross-encoder. */
export function loadNliModel(directory: string, options: NliModelOptions = {}): Promise<NliModel> {
  const key = `${path.resolve(directory)}|${options.maxLength ?? ''}|${options.batchSize ?? ''}`;
  let model = cache.get(key);
  if (!model) {
    model = load(directory, options);
    cache.set(key, model);
    model.catch(() => cache.delete(key));
  }
  return model;
}
