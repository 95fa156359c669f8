/**
 * createOnnxBackend: the embedded backend — a model folder loaded in-process with onnxruntime-node,
 * served through Rein's own decode loop (batch-scheduler.ts) with continuous batching.
 *
 * Usage:
 *   const backend = await createOnnxBackend({ modelDir: 'models/rein-demo' });
 *   for await (const event of backend.generate(request, signal)) …
 *
 * Events per request: one `prompt-tokens`, then `token-delta`s (any choice order), and one
 * `choice-end` per choice. On abort the iterable throws an AbortError and the request's sequences
 * leave the batch at the next step boundary.
 */
import { GatewayError } from '../../errors/gateway-error';
import type { Vocabulary } from '../../decoding/vocabulary';
import type { Backend, BackendEvent, BackendRequest, ModelInfo } from '../backend';
import { BatchScheduler, type BatchStats } from './batch-scheduler';
import { loadOnnxModel, type ExecutionProvider, type OnnxModel } from './onnx-model';

export interface OnnxBackendOptions {
  /** Model folder (config.json, tokenizer.json, tokenizer_config.json, onnx/model.onnx). */
  modelDir: string;
  /** Model id clients use; the folder's base name by default. */
  modelId?: string;
  executionProvider?: ExecutionProvider;
  intraOpNumThreads?: number;
  /** onnxruntime's pool threads spin between operators (off by default; see session-worker.ts). */
  intraOpSpinning?: boolean;
  /** Prompt prefills on a second session alongside decode steps (worker executor, off by default; see onnx-model.ts). */
  prefillLane?: boolean;
  /** Where onnxruntime runs: 'worker' (default, keeps the event loop free) or 'inline' (see onnx-model.ts). */
  executor?: 'worker' | 'inline';
  /** Sequences per forward pass (continuous batching), default 16. */
  maxBatchSize?: number;
  /** Requests allowed to wait for a batch slot before rate_limited, default 256. */
  maxWaitingJobs?: number;
  /** Largest logits tensor of one forward pass, in floats (default 32M); long prompts are prefilled in chunks under it. */
  maxLogitsPerStep?: number;
  /** Upper bound on `n` (default 16). */
  maxSamples?: number;
  /** About half of each step's sampled rows are sampled on the model's worker (default on; see batch-scheduler.ts). */
  sampleOnWorker?: boolean;
}

export interface OnnxBackend extends Backend {
  /** The loaded model, e.g. for createOnnxScorer(backend.model). */
  readonly model: OnnxModel;
  /** Sequences running and waiting (for metrics and tests). */
  load(): { running: number; waiting: number };
  /** Decode steps, prefills, the largest batch, rows and tokens fed by decode steps, and where the time went (ms), since start. */
  batchStats(): BatchStats;
  /** Whether decode steps sample part of their rows on the model's worker (`sampleOnWorker`, where the model runs on one). */
  readonly sampleOnWorker: boolean;
  vocabulary(model: string): Vocabulary;
  countPromptTokens(request: Pick<BackendRequest, 'model' | 'prompt' | 'messages'>): number;
}

function checkRequest(request: BackendRequest, maxSamples: number): void {
  const bad = (param: string, message: string): never => {
    throw new GatewayError('invalid_request', message, { param });
  };
  if ((request.prompt === undefined) === (request.messages === undefined)) bad('/prompt', 'exactly one of prompt and messages is required');
  if (!Number.isInteger(request.maxTokens) || request.maxTokens <= 0) bad('/max_tokens', 'max_tokens must be a positive integer');
  if (!Number.isInteger(request.n) || request.n < 1 || request.n > maxSamples) bad('/n', `n must be an integer from 1 to ${maxSamples}`);
  if (!(request.temperature >= 0) || !Number.isFinite(request.temperature)) bad('/temperature', 'temperature must be a finite number ≥ 0');
  if (!(request.topP > 0 && request.topP <= 1)) bad('/top_p', 'top_p must be in (0, 1]');
  if (!Number.isInteger(request.topK) || request.topK < 0) bad('/top_k', 'top_k must be an integer ≥ 0');
  if (!(request.minP >= 0 && request.minP <= 1)) bad('/min_p', 'min_p must be in [0, 1]');
  if (!(request.repetitionPenalty > 0) || !Number.isFinite(request.repetitionPenalty)) bad('/repetition_penalty', 'repetition_penalty must be a finite number > 0');
  if (!Number.isSafeInteger(request.seed)) bad('/seed', 'seed must be a safe integer');
  if (request.stop.length > 16 || request.stop.some((stop) => typeof stop !== 'string' || stop.length > 256)) {
    bad('/stop', 'at most 16 stop sequences of up to 256 characters');
  }
}

export async function createOnnxBackend(options: OnnxBackendOptions): Promise<OnnxBackend> {
  const model = await loadOnnxModel({
    dir: options.modelDir,
    id: options.modelId,
    executionProvider: options.executionProvider,
    intraOpNumThreads: options.intraOpNumThreads,
    intraOpSpinning: options.intraOpSpinning,
    executor: options.executor,
    prefillLane: options.prefillLane,
  });
  const scheduler = new BatchScheduler(model, {
    maxBatchSize: options.maxBatchSize,
    maxWaitingJobs: options.maxWaitingJobs,
    maxLogitsPerStep: options.maxLogitsPerStep,
    sampleOnWorker: options.sampleOnWorker,
  });
  const maxSamples = options.maxSamples ?? 16;
  let closed = false;

  const requireModel = (id: string): void => {
    if (id !== model.id) throw new GatewayError('not_found', `model ${JSON.stringify(id)} is not served here`, { param: '/model' });
  };

  const promptIds = (request: Pick<BackendRequest, 'prompt' | 'messages'>): number[] => model.encodePrompt(request);

  const backend: OnnxBackend = {
    id: `onnx:${model.id}`,
    model,
    capabilities: { tokenMask: true, streaming: true, nativeConstraints: [] },
    models(): ModelInfo[] {
      return [{ id: model.id, contextLength: model.contextLength, ownedBy: 'rein' }];
    },
    vocabulary(id: string): Vocabulary {
      requireModel(id);
      return model.vocabulary;
    },
    countPromptTokens(request): number {
      requireModel(request.model);
      return promptIds(request).length;
    },
    generate(request: BackendRequest, signal: AbortSignal): AsyncIterable<BackendEvent> {
      return {
        [Symbol.asyncIterator]: () => {
          // Validation and tokenization happen on the first next(), so errors surface as a rejected read.
          let inner: AsyncIterator<BackendEvent> | null = null;
          let cancel: (() => void) | null = null;
          const start = (): AsyncIterator<BackendEvent> => {
            if (closed) throw new GatewayError('unavailable', 'the backend is closed');
            requireModel(request.model);
            checkRequest(request, maxSamples);
            const ids = promptIds(request);
            if (ids.length === 0) throw new GatewayError('invalid_request', 'the prompt is empty after tokenization', { param: request.messages ? '/messages' : '/prompt' });
            if (ids.length >= model.contextLength) {
              throw new GatewayError('context_length_exceeded', `the prompt has ${ids.length} tokens; model ${model.id} takes at most ${model.contextLength - 1}`, {
                param: request.messages ? '/messages' : '/prompt',
              });
            }
            const submitted = scheduler.submit(request, ids, signal);
            cancel = submitted.cancel;
            return submitted.events[Symbol.asyncIterator]();
          };
          return {
            next: async () => {
              inner ??= start();
              return inner.next();
            },
            return: async () => {
              // A consumer that stops reading (break) cancels the generation.
              cancel?.();
              return { done: true, value: undefined };
            },
          };
        },
      };
    },
    load: () => scheduler.load(),
    batchStats: () => ({ ...scheduler.stats }),
    sampleOnWorker: scheduler.sampleOnWorker,
    async ready() {
      return closed ? { ok: false, detail: 'closed' } : { ok: true, detail: `${model.id} loaded` };
    },
    async close() {
      if (closed) return;
      closed = true;
      await scheduler.close();
      await model.close();
    },
  };
  return backend;
}
