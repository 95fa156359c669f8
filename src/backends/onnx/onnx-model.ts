/**
 * OnnxModel: one loaded model — the onnxruntime session, its tokenizer, chat template and vocabulary,
 * and a single `forward` call in optimum's calling convention (input_ids, attention_mask, position_ids,
 * past_key_values.N.key|value → logits, present.N.key|value).
 *
 * The decode loop (batch-scheduler.ts) and the scorer (onnx-scorer.ts) both go through `forward`;
 * nothing else touches onnxruntime. The session runs on a worker thread (session-worker.ts), so a
 * forward pass never blocks the event loop.
 *
 * Hazards (onnxruntime-node 1.30): int64 inputs must be BigInt64Array; `present.*` tensors are fed back
 * as `past_key_values.*` as they are (no copy); an empty past `[B, H, 0, D]` is how the first step starts;
 * `intraOpNumThreads: undefined` is rejected, so the key is omitted unless set. The arrays passed to
 * `forward` are transferred to the worker and unusable afterwards.
 */
import { createHash } from 'node:crypto';
import { Template } from '@huggingface/jinja';
import { Tokenizer } from '@huggingface/tokenizers';
import { GatewayError } from '../../errors/gateway-error';
import type { ChatMessage } from '../backend';
import type { Vocabulary } from '../../decoding/vocabulary';
import { vocabularyFromTokenizerJson } from '../../decoding/vocabulary-from-tokenizer';
import { loadModelFolder, type ModelFolder } from './load-model-folder';
import { startInlineSession } from './inline-session';
import { startSessionWorker, type PlainTensor, type SampleJob, type SessionWorker } from './session-worker';

/** One KV-cache tensor, [batch, heads, columns, headDim], as plain data. */
export interface CacheTensor {
  data: Float32Array;
  dims: number[];
}

export type ExecutionProvider = 'cpu' | 'cuda';

export interface OnnxModelOptions {
  /** The model folder (Hugging Face layout with onnx/model.onnx). */
  dir: string;
  /** Model id served to clients; the folder's base name by default. */
  id?: string;
  /** 'cpu' (default) or 'cuda' (needs onnxruntime-node's CUDA libraries installed). */
  executionProvider?: ExecutionProvider;
  intraOpNumThreads?: number;
  /** onnxruntime's pool threads spin between operators (off by default; see session-worker.ts). */
  intraOpSpinning?: boolean;
  /**
   * 'worker' (default): the session runs on a worker thread and never blocks the event loop.
   * 'inline': on the calling thread — no per-step thread hop, but it blocks the event loop (CLI, benches).
   */
  executor?: 'worker' | 'inline';
  /**
   * A second session, on a worker thread of its own, for prompt prefills: they then run alongside the
   * decode steps instead of pausing them. Worker executor only; it loads the weights twice. Off by
   * default: on the 2-core development machine it did not pay (the two sessions share the same cores,
   * and a slot stays empty while its joiner is prefilled alongside; docs/benchmarks.md).
   */
  prefillLane?: boolean;
}

export type ForwardLane = 'decode' | 'prefill';

export interface ForwardInput {
  batch: number;
  /** New tokens per row this step. */
  length: number;
  inputIds: BigInt64Array;
  /** [batch, pastLength + length], 1 = attend. */
  attentionMask: BigInt64Array;
  positionIds: BigInt64Array;
  /** One tensor per past input, in `pastNames` order; null = empty past. Transferred (detached) by the call. */
  past: CacheTensor[] | null;
  /** Rows to sample on the session's worker once the pass is done (only when `samplesOnWorker`). */
  sample?: SampleJob;
}

export interface ForwardOutput {
  /** [batch, length, vocabWidth] */
  logits: Float32Array;
  vocabWidth: number;
  /** In `pastNames` order, ready to feed back. */
  presents: CacheTensor[];
  /** With `ForwardInput.sample`: the worker's tokens for those rows, in their order; settles after the rest. */
  sampled?: Promise<Int32Array>;
}

export interface OnnxModel {
  readonly id: string;
  readonly folder: ModelFolder;
  readonly vocabulary: Vocabulary;
  readonly contextLength: number;
  readonly eosTokenIds: readonly number[];
  /** past_key_values.N.key, past_key_values.N.value, … in layer order. */
  readonly pastNames: readonly string[];
  readonly numKeyValueHeads: number;
  readonly headDim: number;
  /** Prompt ids: raw prompts get the tokenizer's special tokens (BOS); chat prompts get the template's. */
  encodePrompt(request: { prompt?: string; messages?: ChatMessage[] }): number[];
  /** Text → ids without special tokens. */
  encodeText(text: string): number[];
  renderChat(messages: ChatMessage[]): string;
  /** Whether `forward(…, 'prefill')` runs on a session of its own, concurrently with decode passes. */
  readonly prefillLane: boolean;
  /** Whether a decode pass can sample rows on the session's worker (`ForwardInput.sample`). */
  readonly samplesOnWorker: boolean;
  /** One forward pass; 'prefill' goes to the prefill lane when there is one (the same session otherwise). */
  forward(input: ForwardInput, lane?: ForwardLane): Promise<ForwardOutput>;
  close(): Promise<void>;
}

export async function loadOnnxModel(options: OnnxModelOptions): Promise<OnnxModel> {
  const folder = loadModelFolder(options.dir, options.id);

  let tokenizer: Tokenizer;
  try {
    tokenizer = new Tokenizer(folder.tokenizerJson, folder.tokenizerConfig);
    tokenizer.encode('probe');
  } catch (error) {
    throw new GatewayError('unavailable', `model folder: ${folder.dir}/tokenizer.json: cannot build the tokenizer (${(error as Error).message})`, {
      details: { file: `${folder.dir}/tokenizer.json` },
      cause: error,
    });
  }

  let template: Template | undefined;
  if (folder.chatTemplate !== undefined) {
    try {
      template = new Template(folder.chatTemplate);
    } catch (error) {
      throw new GatewayError('unavailable', `model folder: ${folder.dir}/tokenizer_config.json: chat_template does not parse (${(error as Error).message})`, {
        details: { file: `${folder.dir}/tokenizer_config.json` },
        cause: error,
      });
    }
  }

  const tokenizerHash = createHash('sha256').update(JSON.stringify(folder.tokenizerJson)).digest('hex');
  const vocabulary = vocabularyFromTokenizerJson(folder.tokenizerJson, {
    eosTokenIds: folder.eosTokenIds,
    id: `sha256:${tokenizerHash}`,
    tokenizerConfig: folder.tokenizerConfig,
  });

  let session: SessionWorker;
  let prefillSession: SessionWorker | null = null;
  const wantsPrefillLane = options.executor !== 'inline' && options.prefillLane === true;
  try {
    const sessionOptions = { executionProvider: options.executionProvider, intraOpNumThreads: options.intraOpNumThreads, intraOpSpinning: options.intraOpSpinning };
    session = options.executor === 'inline' ? await startInlineSession(folder.onnxPath, sessionOptions) : await startSessionWorker(folder.onnxPath, sessionOptions);
    if (wantsPrefillLane) {
      try {
        prefillSession = await startSessionWorker(folder.onnxPath, sessionOptions);
      } catch (error) {
        await session.close();
        throw error;
      }
    }
  } catch (error) {
    const message = (error as Error).message ?? String(error);
    if (options.executionProvider === 'cuda' && /cuda|providers_shared|provider/i.test(message)) {
      throw new GatewayError(
        'unavailable',
        `executionProvider 'cuda': onnxruntime-node's CUDA provider libraries are not installed (the default install skips them; see the README's GPU step), or use 'cpu' (${message.split('\n')[0].slice(0, 300)})`,
        { details: { file: folder.onnxPath }, cause: error },
      );
    }
    throw new GatewayError('unavailable', `model folder: ${folder.onnxPath}: onnxruntime cannot load it (${message})`, {
      details: { file: folder.onnxPath },
      cause: error,
    });
  }

  const inputNames = new Set(session.inputNames);
  for (const required of ['input_ids', 'attention_mask']) {
    if (!inputNames.has(required)) throw new GatewayError('unavailable', `model folder: ${folder.onnxPath}: no input named ${required}`, { details: { file: folder.onnxPath } });
  }
  if (!session.outputNames.includes('logits')) throw new GatewayError('unavailable', `model folder: ${folder.onnxPath}: no output named logits`, { details: { file: folder.onnxPath } });
  const pastNames: string[] = [];
  const presentNames: string[] = [];
  for (let layer = 0; inputNames.has(`past_key_values.${layer}.key`); layer++) {
    pastNames.push(`past_key_values.${layer}.key`, `past_key_values.${layer}.value`);
    presentNames.push(`present.${layer}.key`, `present.${layer}.value`);
  }
  if (pastNames.length === 0) throw new GatewayError('unavailable', `model folder: ${folder.onnxPath}: no past_key_values inputs (export with a KV cache)`, { details: { file: folder.onnxPath } });
  for (const name of presentNames) {
    if (!session.outputNames.includes(name)) throw new GatewayError('unavailable', `model folder: ${folder.onnxPath}: no output named ${name}`, { details: { file: folder.onnxPath } });
  }
  const usesPositionIds = inputNames.has('position_ids');

  // Prefer the graph's own static shape for the cache geometry; config.json is the fallback.
  let numKeyValueHeads = folder.numKeyValueHeads;
  let headDim = folder.headDim;
  const metadata = session.inputMetadata;
  const pastMetadata = Array.isArray(metadata) ? metadata.find((entry) => entry.name === pastNames[0]) : undefined;
  if (pastMetadata?.type !== undefined && pastMetadata.type !== 'float32') {
    throw new GatewayError('unavailable', `model folder: ${folder.onnxPath}: past_key_values are ${pastMetadata.type}; only float32 models are supported`, { details: { file: folder.onnxPath } });
  }
  if (pastMetadata?.shape && typeof pastMetadata.shape[1] === 'number') numKeyValueHeads = pastMetadata.shape[1];
  if (pastMetadata?.shape && typeof pastMetadata.shape[3] === 'number') headDim = pastMetadata.shape[3];

  const special = (value: string | undefined): string => value ?? '';

  const model: OnnxModel = {
    id: folder.id,
    folder,
    vocabulary,
    contextLength: folder.contextLength,
    eosTokenIds: folder.eosTokenIds,
    pastNames,
    numKeyValueHeads,
    headDim,
    renderChat(messages: ChatMessage[]): string {
      if (!template) throw new GatewayError('invalid_request', `model ${folder.id} has no chat template; send a prompt instead of messages`, { param: '/messages' });
      return template.render({
        messages,
        add_generation_prompt: true,
        bos_token: special(folder.bosToken),
        eos_token: special(folder.eosToken),
      });
    },
    encodePrompt(request): number[] {
      if (request.messages !== undefined) {
        // The template writes BOS itself where the model wants it.
        return tokenizer.encode(model.renderChat(request.messages), { add_special_tokens: false }).ids;
      }
      return tokenizer.encode(request.prompt ?? '', { add_special_tokens: true }).ids;
    },
    encodeText(text: string): number[] {
      return tokenizer.encode(text, { add_special_tokens: false }).ids;
    },
    prefillLane: prefillSession !== null,
    samplesOnWorker: session.runAndSample !== undefined,
    async forward(input: ForwardInput, lane: ForwardLane = 'decode'): Promise<ForwardOutput> {
      const feeds: Record<string, PlainTensor> = {
        input_ids: { type: 'int64', data: input.inputIds, dims: [input.batch, input.length] },
        attention_mask: { type: 'int64', data: input.attentionMask, dims: [input.batch, input.attentionMask.length / input.batch] },
      };
      if (usesPositionIds) feeds.position_ids = { type: 'int64', data: input.positionIds, dims: [input.batch, input.length] };
      for (let index = 0; index < pastNames.length; index++) {
        const past = input.past?.[index];
        feeds[pastNames[index]] = past
          ? { type: 'float32', data: past.data, dims: past.dims }
          : { type: 'float32', data: new Float32Array(0), dims: [input.batch, numKeyValueHeads, 0, headDim] };
      }
      const target = lane === 'prefill' && prefillSession ? prefillSession : session;
      let sampled: Promise<Int32Array> | undefined;
      let results: Record<string, PlainTensor>;
      if (input.sample && input.sample.rows.length > 0) {
        if (!target.runAndSample) throw new GatewayError('internal_error', 'this session cannot sample on a worker');
        const call = target.runAndSample(feeds, input.sample);
        sampled = call.tokens;
        results = await call.outputs;
      } else {
        results = await target.run(feeds);
      }
      const logits = results.logits;
      const output: ForwardOutput = {
        logits: logits.data as Float32Array,
        vocabWidth: logits.dims[logits.dims.length - 1],
        presents: presentNames.map((name) => ({ data: results[name].data as Float32Array, dims: results[name].dims })),
      };
      if (sampled) output.sampled = sampled;
      return output;
    },
    async close(): Promise<void> {
      await Promise.all([session.close(), prefillSession?.close()]);
    },
  };
  return model;
}

