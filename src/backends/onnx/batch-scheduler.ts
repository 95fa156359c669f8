/**
 * BatchScheduler: Rein's decode loop with continuous batching over one OnnxModel.
 *
 * Every request becomes a job with n sequences. Sequences wait in a fair queue (round-robin over
 * jobs, oldest first) and are taken for the free slots (up to `maxBatchSize`) at step boundaries. The
 * joiners' prompts are prefilled together (left-padded, in groups under the logits bound; a job's n
 * sequences share one prefill row), each joiner's first token is chosen from its prefill logits, and
 * its cache joins the batch at the next boundary. By default the prefill runs on the decode session
 * between steps; with the model's prefill lane (`prefillLane`) it runs on a session of its own while
 * the batch keeps decoding. Then one forward pass per step advances every running sequence; a sequence
 * leaves the moment it ends or its request is cancelled, and the cache is compacted at the next step
 * boundary (KvBatch.rebuild; leading columns no row attends to are trimmed then).
 *
 * A step feeds every row the same number of tokens: the fewest any row has pending — one, except when
 * every row is in a jump-forward run. A longer forced run goes in over the next steps, so no row is ever
 * padded, and no masked holes build up in the cache.
 *
 * Per sequence, at every choice: repetition penalty → constraint mask (`session.mask` →
 * `mask.applyTo`) → temperature / top-k / top-p / min-p → one draw from its own generator (seed + i)
 * → `session.advance` → jump-forward tokens from `session.forced()` appended without sampling.
 * Stops on EOS, a stop sequence, max_tokens, the context length, or `session.finished`.
 *
 * Masks overlap the forward pass: the session runs on a worker thread, and while it computes step t
 * the event loop asks every constrained sequence for its forced tokens and its mask for its next
 * choice (they depend only on tokens already chosen).
 *
 * Choosing is spread over two cores: about half of a step's unconstrained sampled rows are sampled by
 * the session's worker right after the pass, while the event loop samples the others. Each such row's
 * draw is taken from its generator when the step is sent, so it gets the token it would have got here.
 *
 * Batch independence: a sequence's draws come from its own generator, one per sampled token, and its
 * prompt is prefilled with other joiners' only as left-padded rows; decode steps share a batch, so the
 * logits of a row can differ from a solo run only by float rounding in the attention sums (tested equal
 * on the fixtures, with forced runs split over steps and joins mid-decode).
 */
import { GatewayError, toGatewayError } from '../../errors/gateway-error';
import { TokenMask } from '../../decoding/token-mask';
import type { ConstraintSession } from '../../decoding/constraint';
import type { BackendEvent, BackendRequest, FinishReason } from '../backend';
import { CompletionText } from './completion-text';
import { EventChannel } from './event-channel';
import { KvBatch, type KvRowSource } from './kv-batch';
import type { ForwardOutput, OnnxModel } from './onnx-model';
import { applyRepetitionPenalty, sampleToken } from './sampler';
import { createSeededRandom, type RandomSource } from './seeded-random';
import type { SampleJob } from './session-worker';

export interface BatchSchedulerOptions {
  /** Sequences in one forward pass (default 16). */
  maxBatchSize?: number;
  /** Jobs allowed to wait for a slot before new ones are refused with rate_limited (default 256). */
  maxWaitingJobs?: number;
  /** Largest logits tensor of one forward pass, in floats (default 32M = 128 MB); bounds prefill chunks and jump-forward runs. */
  maxLogitsPerStep?: number;
  /**
   * Sample about half of a step's unconstrained rows on the session's worker while the event loop
   * samples the rest (default on, where the model runs on a worker). The tokens are the same either way.
   */
  sampleOnWorker?: boolean;
}

export interface BatchStats {
  steps: number;
  maxRows: number;
  prefills: number;
  rowSteps: number;
  fedTokens: number;
  /** Positions of decode steps that fed a row no token (left padding). */
  paddingTokens: number;
  forwardMs: number;
  /** Of forwardMs: constraint masks and forced tokens computed while the pass ran (hidden unless longer than it). */
  maskMs: number;
  prefillMs: number;
  /** Time the decode loop waited on a prefill (no prefill lane, or nothing to decode meanwhile). */
  prefillWaitMs: number;
  chooseMs: number;
  rebuildMs: number;
  /** Tokens sampled on the session's worker (of rowSteps). */
  workerSampled: number;
}

interface Job {
  request: BackendRequest;
  promptIds: number[];
  channel: EventChannel<BackendEvent>;
  waiting: Sequence[];
  open: number;
  cancelled: boolean;
}

interface Sequence {
  job: Job;
  choice: number;
  random: RandomSource;
  session?: ConstraintSession;
  text: CompletionText;
  /** Distinct tokens of prompt + output, for the repetition penalty. */
  seen: number[];
  seenFlags: Uint8Array;
  completionTokens: number;
  /** Tokens chosen but not yet in the cache: fed at the next step. */
  pending: number[];
  /** Tokens in this sequence's cache (the next position id). */
  position: number;
  ended: boolean;
  undeliveredIds: number[];
  undeliveredForced: boolean;
  /** The constraint's mask and forced tokens for the next choice, computed while the model runs. */
  mask?: TokenMask;
  prepared: boolean;
  preparedForced: number[];
}

/**
 * Forced tokens taken in one go are bounded, so a grammar can never make a step unbounded: at most 64,
 * and fewer when the step's logits (batch × tokens × vocabulary) would pass MAX_STEP_LOGITS. Forced
 * tokens not taken stay forced and go in the next step.
 */
const MAX_FORCED_PER_STEP = 64;
const MAX_STEP_LOGITS = 32 * 1024 * 1024;

function abortError(): Error {
  const error = new Error('generation aborted');
  error.name = 'AbortError';
  return error;
}

export class BatchScheduler {
  private readonly maxBatchSize: number;
  private readonly maxWaitingJobs: number;
  private readonly maxForced: number;
  private readonly maxLogits: number;
  /** Whether decode steps sample part of their rows on the model's worker (the option, where the model can). */
  readonly sampleOnWorker: boolean;
  private readonly waitingJobs: Job[] = [];
  private rows: Sequence[] = [];
  private readonly batch: KvBatch;
  private readonly vocabularySize: number;
  private readonly eos: Set<number>;
  private scratch = new Float32Array(0);
  private running = false;
  /** Sequences taken from the queue whose prefill is in progress. */
  private admitting: Sequence[] = [];
  /** Prefilled sequences (first token chosen) waiting for the next step boundary to join the batch. */
  private prefilled: Array<{ source: KvRowSource; sequence: Sequence }> = [];
  /** The prefill in progress (one at a time), and the error it ended with, if any. */
  private prefillTask: Promise<void> | null = null;
  private prefillError: unknown = undefined;
  private closed = false;
  /**
   * Counters for tests, metrics and benches: decode steps, prefill passes, the largest batch, rows and
   * tokens fed by decode steps, and milliseconds spent waiting on decode passes, in prefills (their
   * passes and the choice of each joiner's first token), choosing tokens, and rebuilding the cache.
   */
  stats: BatchStats = { steps: 0, maxRows: 0, prefills: 0, rowSteps: 0, fedTokens: 0, paddingTokens: 0, forwardMs: 0, maskMs: 0, prefillMs: 0, prefillWaitMs: 0, chooseMs: 0, rebuildMs: 0, workerSampled: 0 };

  constructor(
    private readonly model: OnnxModel,
    options: BatchSchedulerOptions = {},
  ) {
    this.maxBatchSize = Math.max(1, Math.floor(options.maxBatchSize ?? 16));
    this.maxWaitingJobs = Math.max(1, Math.floor(options.maxWaitingJobs ?? 256));
    this.maxLogits = Math.max(1, Math.floor(options.maxLogitsPerStep ?? MAX_STEP_LOGITS));
    this.sampleOnWorker = (options.sampleOnWorker ?? true) && model.samplesOnWorker;
    this.maxForced = Math.max(1, Math.min(MAX_FORCED_PER_STEP, Math.floor(this.maxLogits / (this.maxBatchSize * Math.max(1, model.vocabulary.size)))));
    this.batch = new KvBatch(model.pastNames.length, model.numKeyValueHeads, model.headDim);
    this.vocabularySize = model.vocabulary.size;
    this.eos = new Set(model.eosTokenIds);
  }

  /**
   * Queues a request; events arrive on `events` (which throws AbortError on abort). `cancel()` is for a
   * consumer that stops reading: its sequences leave the batch at the next step boundary.
   */
  submit(request: BackendRequest, promptIds: number[], signal: AbortSignal): { events: AsyncIterable<BackendEvent>; cancel: () => void } {
    if (this.closed) throw new GatewayError('unavailable', 'the model is shutting down');
    if (this.waitingJobs.length >= this.maxWaitingJobs) {
      throw new GatewayError('rate_limited', 'too many generations are waiting for this model', { retryAfterSeconds: 1 });
    }
    const channel = new EventChannel<BackendEvent>();
    const job: Job = { request, promptIds, channel, waiting: [], open: request.n, cancelled: false };
    channel.push({ type: 'prompt-tokens', count: promptIds.length });
    for (let choice = 0; choice < request.n; choice++) job.waiting.push(this.createSequence(job, choice));
    const cancel = (): void => this.cancel(job);
    if (signal.aborted) {
      channel.fail(abortError());
      return { events: channel, cancel };
    }
    const onAbort = (): void => this.cancel(job);
    signal.addEventListener('abort', onAbort, { once: true });
    // Drop the listener when the job ends so long-lived signals do not accumulate them.
    const originalClose = channel.close.bind(channel);
    channel.close = () => {
      signal.removeEventListener('abort', onAbort);
      originalClose();
    };
    this.waitingJobs.push(job);
    this.kick();
    return { events: channel, cancel };
  }

  /** Sequences running and waiting now. */
  load(): { running: number; waiting: number } {
    const live = (row: Sequence): boolean => !row.ended;
    const running = this.rows.filter(live).length + this.admitting.filter(live).length + this.prefilled.filter((entry) => live(entry.sequence)).length;
    return { running, waiting: this.waitingJobs.reduce((sum, job) => sum + job.waiting.length, 0) };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const job of [...this.waitingJobs]) this.cancel(job, new GatewayError('unavailable', 'the model is shutting down'));
    for (const row of [...this.rows, ...this.admitting, ...this.prefilled.map((entry) => entry.sequence)]) {
      this.cancel(row.job, new GatewayError('unavailable', 'the model is shutting down'));
    }
    while (this.running) await new Promise((resolve) => setTimeout(resolve, 5));
  }

  private createSequence(job: Job, choice: number): Sequence {
    const seenFlags = new Uint8Array(Math.max(this.vocabularySize, 1));
    const seen: number[] = [];
    if (job.request.repetitionPenalty !== 1) {
      for (const token of job.promptIds) {
        if (token < seenFlags.length && !seenFlags[token]) {
          seenFlags[token] = 1;
          seen.push(token);
        }
      }
    }
    return {
      job,
      choice,
      random: createSeededRandom(job.request.seed + choice),
      session: job.request.constraint?.start({ maxTokens: job.request.maxTokens }),
      text: new CompletionText(job.request.stop),
      seen,
      seenFlags,
      completionTokens: 0,
      pending: [],
      position: 0,
      ended: false,
      undeliveredIds: [],
      undeliveredForced: false,
      prepared: false,
      preparedForced: [],
    };
  }

  private cancel(job: Job, error: Error = abortError()): void {
    if (job.cancelled) return;
    job.cancelled = true;
    job.waiting = [];
    const index = this.waitingJobs.indexOf(job);
    if (index >= 0) this.waitingJobs.splice(index, 1);
    for (const row of this.rows) if (row.job === job) row.ended = true;
    for (const row of this.admitting) if (row.job === job) row.ended = true;
    for (const entry of this.prefilled) if (entry.sequence.job === job) entry.sequence.ended = true;
    job.channel.fail(error);
  }

  private kick(): void {
    if (this.running) return;
    this.running = true;
    void this.loop();
  }

  private async loop(): Promise<void> {
    try {
      for (;;) {
        this.throwPrefillError();
        if (this.prefillTask === null && !this.closed) {
          const joiners = this.takeJoiners();
          if (joiners.size > 0) {
            this.admitting = [...joiners.values()].flat();
            const task = this.prefillJoiners(joiners)
              .catch((error: unknown) => {
                this.prefillError ??= error;
              })
              .finally(() => {
                this.admitting = [];
                if (this.prefillTask === task) this.prefillTask = null;
              });
            this.prefillTask = task;
            // Without a lane of its own, or with no decode step to overlap, the prefill is waited for.
            if (!this.model.prefillLane || this.rows.every((row) => row.ended)) await this.waitForPrefill();
          }
        }
        this.throwPrefillError();
        this.merge();
        if (this.rows.length > 0) await this.decodeStep();
        else if (this.prefillTask !== null) await this.waitForPrefill();
        else break;
        // A sequence that just ended has woken its consumer, which may send its next request at once
        // (a closed-loop client, a retry, the next turn of a conversation): one macrotask hop lets those
        // calls land in the queue, so they join at the next boundary, prefilled together, instead of one
        // step later, each in a prefill of its own.
        if (this.rows.some((row) => row.ended)) await new Promise((resolve) => setImmediate(resolve));
      }
    } catch (error) {
      // A failed forward pass fails every job in flight; the batch starts again empty.
      const failure = toGatewayError(error);
      const jobs = new Set([...this.rows, ...this.admitting, ...this.prefilled.map((entry) => entry.sequence)].map((row) => row.job));
      for (const job of jobs) this.cancel(job, failure);
      if (this.prefillTask !== null) await this.prefillTask;
      this.prefillError = undefined;
      this.rows = [];
      this.admitting = [];
      this.prefilled = [];
      this.batch.rebuild([]);
    } finally {
      this.running = false;
      if (!this.closed && this.waitingJobs.length > 0) this.kick();
    }
  }

  private throwPrefillError(): void {
    if (this.prefillError === undefined) return;
    const error = this.prefillError;
    this.prefillError = undefined;
    throw error;
  }

  private async waitForPrefill(): Promise<void> {
    const started = performance.now();
    if (this.prefillTask !== null) await this.prefillTask;
    this.stats.prefillWaitMs += performance.now() - started;
  }

  /** Sequences from the queue for the free slots, round-robin over waiting jobs (oldest first). */
  private takeJoiners(): Map<Job, Sequence[]> {
    let free = this.maxBatchSize - this.prefilled.length;
    for (const row of this.rows) if (!row.ended) free--;
    const joiners = new Map<Job, Sequence[]>();
    while (free > 0 && this.waitingJobs.length > 0) {
      for (let index = 0; index < this.waitingJobs.length && free > 0; index++) {
        const job = this.waitingJobs[index];
        const sequence = job.waiting.shift();
        if (!sequence) continue;
        const list = joiners.get(job) ?? [];
        list.push(sequence);
        joiners.set(job, list);
        free--;
      }
      for (let index = this.waitingJobs.length - 1; index >= 0; index--) {
        if (this.waitingJobs[index].waiting.length === 0) this.waitingJobs.splice(index, 1);
      }
    }
    return joiners;
  }

  /**
   * Prefills joining prompts (on the model's prefill lane when it has one, alongside decode steps) and
   * picks each joiner's first token; the joiners then wait in `prefilled` for the next step boundary.
   */
  private async prefillJoiners(joiners: Map<Job, Sequence[]>): Promise<void> {
    // Joining prompts are prefilled together (left-padded) in groups whose logits stay under a bound;
    // a job's n sequences share one prefill row.
    const groups: Array<Array<[Job, Sequence[]]>> = [];
    let group: Array<[Job, Sequence[]]> = [];
    let groupLength = 0;
    const width = Math.max(this.vocabularySize, 1);
    for (const entry of joiners) {
      const length = Math.max(groupLength, entry[0].promptIds.length);
      if (group.length > 0 && (group.length + 1) * length * width > this.maxLogits) {
        groups.push(group);
        group = [];
      }
      group.push(entry);
      groupLength = Math.max(group.length > 1 ? groupLength : 0, entry[0].promptIds.length);
    }
    if (group.length > 0) groups.push(group);
    const started = performance.now();
    try {
      for (const members of groups) {
        const live = members.filter(([job]) => !job.cancelled);
        if (live.length === 0) continue;
        const prefilled = await this.prefill(live.map(([job]) => job.promptIds), () => {
          for (const [, sequences] of live) for (const sequence of sequences) this.prepare(sequence);
        });
        this.stats.prefills++;
        const { output, columns: length, masks } = prefilled;
        const vocabWidth = output.vocabWidth;
        live.forEach(([job, sequences], row) => {
          if (job.cancelled) return;
          const offset = prefilled.lastOffset(row);
          const lastRow = output.logits.subarray(offset, offset + vocabWidth);
          for (const sequence of sequences) {
            sequence.position = job.promptIds.length;
            // Each sequence gets its own copy of the shared logits: penalties and masks work in place.
            this.choose(sequence, Float32Array.from(lastRow), 0, vocabWidth);
            if (sequence.ended) continue;
            this.prefilled.push({ source: { past: output.presents, row, columns: length, mask: masks[row] }, sequence });
          }
        });
      }
    } finally {
      this.stats.prefillMs += performance.now() - started;
    }
  }

  /** At a step boundary: drops ended rows, appends prefilled joiners, and rebuilds the cache if anything changed. */
  private merge(): void {
    const joining = this.prefilled.filter((entry) => !entry.sequence.ended);
    this.prefilled = [];
    if (joining.length === 0 && this.rows.every((row) => !row.ended)) return;
    const started = performance.now();
    const sources: KvRowSource[] = [];
    const rows: Sequence[] = [];
    this.rows.forEach((row, index) => {
      if (!row.ended) {
        sources.push(this.batch.source(index));
        rows.push(row);
      }
    });
    for (const entry of joining) {
      sources.push(entry.source);
      rows.push(entry.sequence);
    }
    this.batch.rebuild(sources);
    this.rows = rows;
    this.stats.rebuildMs += performance.now() - started;
    this.stats.maxRows = Math.max(this.stats.maxRows, rows.length);
  }

  /**
   * Runs the prompts (left-padded to one length) through the model from an empty cache. A prompt
   * whose logits alone would pass the logits bound goes in chunks, each step extending the cache, so
   * a long prompt on a large vocabulary never needs one huge logits tensor. `whileRunning` is called
   * once the first forward pass is under way (the constraint masks are computed meanwhile).
   */
  private async prefill(
    prompts: number[][],
    whileRunning: () => void,
  ): Promise<{ output: ForwardOutput; columns: number; masks: Uint8Array[]; lastOffset: (row: number) => number }> {
    const rows = prompts.length;
    const length = Math.max(...prompts.map((prompt) => prompt.length));
    const width = Math.max(this.vocabularySize, 1);
    const chunk = rows === 1 ? Math.max(1, Math.floor(this.maxLogits / width)) : length;
    const masks = prompts.map((prompt) => {
      const mask = new Uint8Array(length);
      mask.fill(1, length - prompt.length);
      return mask;
    });
    let past: ForwardOutput['presents'] | null = null;
    let output: ForwardOutput | null = null;
    let chunkLength = 0;
    for (let start = 0; start < length; start += chunk) {
      chunkLength = Math.min(chunk, length - start);
      const inputIds = new BigInt64Array(rows * chunkLength);
      const attentionMask = new BigInt64Array(rows * (start + chunkLength));
      const positionIds = new BigInt64Array(rows * chunkLength);
      prompts.forEach((prompt, row) => {
        const pad = length - prompt.length;
        for (let column = 0; column < start + chunkLength; column++) if (masks[row][column]) attentionMask[row * (start + chunkLength) + column] = 1n;
        for (let index = 0; index < chunkLength; index++) {
          const column = start + index;
          if (column < pad) continue;
          inputIds[row * chunkLength + index] = BigInt(prompt[column - pad]);
          positionIds[row * chunkLength + index] = BigInt(column - pad);
        }
      });
      const forward = this.model.forward({ batch: rows, length: chunkLength, inputIds, attentionMask, positionIds, past }, 'prefill');
      if (start === 0) whileRunning();
      output = await forward;
      past = output.presents;
    }
    const finalLength = chunkLength;
    const vocabWidth = output!.vocabWidth;
    return { output: output!, columns: length, masks, lastOffset: (row) => (row * finalLength + finalLength - 1) * vocabWidth };
  }

  private async decodeStep(): Promise<void> {
    const rows = this.rows;
    const count = rows.length;
    // Every row feeds the same number of tokens: the fewest any live row has pending (one, unless every
    // row is in a jump-forward run). Padding a step to the longest run would cost every row that many
    // positions of compute and leave masked holes in its cache for the rest of its life; a longer run
    // goes over the next steps instead, and the row is sampled once its last pending token is in.
    let length = 0;
    for (const sequence of rows) {
      if (sequence.ended || sequence.pending.length === 0) continue;
      if (length === 0 || sequence.pending.length < length) length = sequence.pending.length;
    }
    if (length === 0) length = 1;
    const fed = rows.map((row) => (row.ended ? 0 : Math.min(length, row.pending.length)));
    const inputIds = new BigInt64Array(count * length);
    const positionIds = new BigInt64Array(count * length);
    for (let row = 0; row < count; row++) {
      const sequence = rows[row];
      const pad = length - fed[row];
      for (let index = 0; index < length; index++) {
        const real = index - pad;
        inputIds[row * length + index] = BigInt(real >= 0 ? sequence.pending[real] : 0);
        positionIds[row * length + index] = BigInt(sequence.position + Math.max(0, real));
      }
    }
    const offloaded = this.sampleOnWorker ? this.rowsForWorker(fed) : [];
    const started = performance.now();
    const forward = this.model.forward({
      batch: count,
      length,
      inputIds,
      attentionMask: this.batch.attentionMask(length, fed),
      positionIds,
      past: this.batch.past,
      sample: offloaded.length > 0 ? this.sampleJob(offloaded) : undefined,
    });
    // The cache now belongs to the worker; meanwhile, the constraint work for the next choices (a row
    // whose pending tokens do not all go in this step keeps what it prepared for a later step).
    this.batch.past = null;
    const masksStarted = performance.now();
    for (const sequence of rows) if (!sequence.prepared) this.prepare(sequence);
    this.stats.maskMs += performance.now() - masksStarted;
    const output = await forward;
    const returned = performance.now();
    this.stats.steps++;
    this.stats.rowSteps += count;
    this.stats.forwardMs += returned - started;
    this.batch.advance(output.presents, length, fed);
    const width = output.vocabWidth;
    // The rows the worker samples are skipped here and chosen once its tokens arrive.
    let next = 0;
    for (let row = 0; row < count; row++) {
      const sequence = rows[row];
      sequence.position += fed[row];
      this.stats.fedTokens += fed[row];
      this.stats.paddingTokens += length - fed[row];
      if (fed[row] === sequence.pending.length) sequence.pending = [];
      else sequence.pending = sequence.pending.slice(fed[row]);
      if (next < offloaded.length && offloaded[next] === row) {
        next++;
        continue;
      }
      if (sequence.ended || sequence.pending.length > 0) continue;
      this.choose(sequence, output.logits, (row * length + length - 1) * width, width);
    }
    if (offloaded.length > 0) {
      const tokens = await output.sampled!;
      this.stats.workerSampled += offloaded.length;
      offloaded.forEach((row, index) => {
        const sequence = rows[row];
        if (!sequence.ended) this.choose(sequence, output.logits, (row * length + length - 1) * width, width, tokens[index]);
      });
    }
    this.stats.chooseMs += performance.now() - returned;
  }

  /**
   * Rows whose next token the worker can sample: sampled (temperature > 0), unconstrained (no mask, no
   * forced tokens), all pending tokens in this step, and tokens left in their budget — so choose() will
   * make exactly the one draw taken for them beforehand. Half of them (the later rows) go, when at least
   * two qualify: one row alone is not worth a second message.
   */
  private rowsForWorker(fed: readonly number[]): number[] {
    const eligible: number[] = [];
    this.rows.forEach((sequence, row) => {
      const request = sequence.job.request;
      if (sequence.ended || sequence.session || request.temperature <= 0 || fed[row] !== sequence.pending.length) return;
      if (this.tokensLeft(sequence, sequence.position + fed[row]) > 0) eligible.push(row);
    });
    return eligible.length < 2 ? [] : eligible.slice(eligible.length >> 1);
  }

  /** The worker's share of a step: each row's settings and the draw its generator gives now. */
  private sampleJob(offloaded: readonly number[]): SampleJob {
    return {
      vocabularySize: this.vocabularySize,
      rows: offloaded.map((row) => {
        const sequence = this.rows[row];
        const request = sequence.job.request;
        return {
          row,
          temperature: request.temperature,
          topK: request.topK,
          topP: request.topP,
          minP: request.minP,
          repetitionPenalty: request.repetitionPenalty,
          seen: request.repetitionPenalty === 1 ? [] : sequence.seen.slice(),
          draw: sequence.random(),
        };
      }),
    };
  }

  /** Computes a constrained sequence's forced tokens, or else its mask, for its next choice. */
  private prepare(sequence: Sequence): void {
    const session = sequence.session;
    if (!session || sequence.ended) return;
    sequence.preparedForced = session.forced();
    if (sequence.preparedForced.length === 0) {
      sequence.mask ??= new TokenMask(this.vocabularySize);
      sequence.mask.clear();
      session.mask(sequence.mask);
    }
    sequence.prepared = true;
  }

  /** Tokens a sequence may still add once its cache holds `position` tokens: max_tokens and the context both bound it. */
  private tokensLeft(sequence: Sequence, position: number): number {
    return Math.min(sequence.job.request.maxTokens - sequence.completionTokens, this.model.contextLength - position);
  }

  /** Picks the next token(s) of one sequence from its logits row, emits text, and ends it when due. */
  private choose(sequence: Sequence, logits: Float32Array, offset: number, width: number, sampled?: number): void {
    const request = sequence.job.request;
    const session = sequence.session;
    const budget = this.tokensLeft(sequence, sequence.position);
    if (budget <= 0) return this.end(sequence, 'length');
    const chosen: number[] = [];
    let forcedOnly = false;
    if (session && !sequence.prepared) this.prepare(sequence);
    sequence.prepared = false;
    const forcedNow = session ? sequence.preparedForced : [];
    if (forcedNow.length > 0) {
      // Jump-forward: the constraint allows exactly these; no sampling needed. Only as many as fit are
      // committed, so `accepting` describes the text actually returned.
      forcedOnly = true;
      for (const token of forcedNow.slice(0, Math.min(budget, this.maxForced))) {
        if (!session!.advance(token)) break;
        chosen.push(token);
      }
      if (chosen.length === 0) return this.end(sequence, 'stop');
    } else {
      let token: number;
      if (sampled !== undefined) token = sampled;
      else {
        applyRepetitionPenalty(logits, offset, sequence.seen, request.repetitionPenalty);
        if (session) sequence.mask!.applyTo(logits, offset);
        // Logit columns beyond the tokenizer's vocabulary are padding: never sampled.
        for (let index = this.vocabularySize; index < width; index++) logits[offset + index] = -Infinity;
        if (this.scratch.length < width) this.scratch = new Float32Array(width);
        token = sampleToken(logits, offset, this.vocabularySize, request, sequence.random, this.scratch);
      }
      if (token < 0 || this.eos.has(token)) return this.end(sequence, 'stop');
      if (session && !session.advance(token)) return this.end(sequence, 'stop');
      chosen.push(token);
      if (session && !session.finished) {
        for (const forced of session.forced()) {
          if (chosen.length >= Math.min(budget, this.maxForced)) break;
          if (!session.advance(forced)) break;
          chosen.push(forced);
        }
      }
    }

    for (let index = 0; index < chosen.length; index++) {
      const token = chosen[index];
      sequence.completionTokens++;
      sequence.pending.push(token);
      if (token < sequence.seenFlags.length && !sequence.seenFlags[token]) {
        sequence.seenFlags[token] = 1;
        sequence.seen.push(token);
      }
      sequence.undeliveredIds.push(token);
      if (forcedOnly || index > 0) sequence.undeliveredForced = true;
      const update = sequence.text.push(this.model.vocabulary.tokenBytes(token));
      if (update.text.length > 0) this.deliver(sequence, update.text);
      if (update.stopped) return this.end(sequence, 'stop', true);
    }
    if (session?.finished) return this.end(sequence, 'stop');
    if (sequence.completionTokens >= request.maxTokens) return this.end(sequence, 'length');
    if (sequence.position + sequence.pending.length >= this.model.contextLength) return this.end(sequence, 'length');
  }

  private deliver(sequence: Sequence, text: string): void {
    const event: BackendEvent = { type: 'token-delta', choice: sequence.choice, text, tokenIds: sequence.undeliveredIds };
    if (sequence.undeliveredForced) event.forced = true;
    sequence.job.channel.push(event);
    sequence.undeliveredIds = [];
    sequence.undeliveredForced = false;
  }

  private end(sequence: Sequence, finishReason: FinishReason, stopped = false): void {
    if (sequence.ended) return;
    sequence.ended = true;
    sequence.pending = [];
    const job = sequence.job;
    if (job.cancelled) return;
    const rest = stopped ? '' : sequence.text.finish();
    if (rest.length > 0 || sequence.undeliveredIds.length > 0) this.deliver(sequence, rest);
    const event: BackendEvent = { type: 'choice-end', choice: sequence.choice, finishReason, completionTokens: sequence.completionTokens };
    if (sequence.session) event.constraintComplete = sequence.session.accepting;
    job.channel.push(event);
    job.open--;
    if (job.open === 0) job.channel.close();
  }
}
