/**
 * UpstreamExchange: one HTTP request to a backend through a dispatch-style transport (Rein's
 * Http1Client for http:, undici's dispatch for https:), without a response stream object. Response
 * bytes are handled as they arrive: an SSE body is parsed on the spot into `data:` payloads that wait
 * in a queue; any other body (an error, a server that ignored stream: true) is collected as text. The
 * caller awaits `started()` and then drains the queue with `next()` — once per network read, not once
 * per event per stream layer (a Readable, its async iterator and an async SSE generator before).
 *
 * Timeouts stay with the transport (connect, headers = first byte, body = between reads). abort()
 * stops the request with its reason at any point, including while it still waits for a connection.
 * Backpressure: when more than HIGH_WATER payloads wait, the socket is paused until next() drains them.
 */
import type { ExchangeController, ExchangeHandler } from './http1-client';
import { SseDataParser } from './sse-parser';

const HIGH_WATER = 1024;

export class UpstreamBodyTooLargeError extends Error {}

export class UpstreamExchange implements ExchangeHandler {
  statusCode = 0;
  contentType = '';
  /** True once the response headers said text/event-stream (and a status below 400). */
  sse = false;
  private controller: ExchangeController | undefined;
  private readonly parser: SseDataParser;
  private queue: string[] = [];
  private readonly raw: Buffer[] = [];
  private rawBytes = 0;
  private ended = false;
  private failure: Error | undefined;
  private abortReason: Error | undefined;
  /** Set while the consumer waits; called when headers, data, the end or an error arrive. */
  private wake: (() => void) | undefined;
  /** The consumer stopped reading ([DONE] or an early return): later bytes are dropped. */
  private discarding = false;

  constructor(
    maxLineBytes: number,
    private readonly maxBodyBytes: number,
  ) {
    this.parser = new SseDataParser(maxLineBytes);
  }

  // ------------------------------------------------------------------------ the transport's handler calls

  onRequestStart(controller: ExchangeController): void {
    this.controller = controller;
    if (this.abortReason) controller.abort(this.abortReason);
  }

  onResponseStart(controller: ExchangeController, statusCode: number, headers: Record<string, string | string[] | undefined>): void {
    if (statusCode < 200) return; // 1xx: informational, the real answer follows
    this.statusCode = statusCode;
    const type = headers['content-type'];
    this.contentType = Array.isArray(type) ? type.join(', ') : (type ?? '');
    this.sse = statusCode < 400 && this.contentType.includes('text/event-stream');
    this.signal();
  }

  onResponseData(controller: ExchangeController, chunk: Buffer): void {
    if (this.failure) return;
    if (this.discarding) {
      this.rawBytes += chunk.length;
      if (this.rawBytes > this.maxBodyBytes) controller.abort(new UpstreamBodyTooLargeError(`the server kept sending more than ${this.maxBodyBytes} bytes after [DONE]`));
      return;
    }
    try {
      if (this.sse) {
        this.parser.push(chunk, this.queue);
        if (this.queue.length > HIGH_WATER) controller.pause();
      } else {
        this.rawBytes += chunk.length;
        if (this.rawBytes > this.maxBodyBytes) throw new UpstreamBodyTooLargeError(`the response body is larger than ${this.maxBodyBytes} bytes`);
        this.raw.push(chunk);
      }
    } catch (error) {
      this.fail(error as Error);
      controller.abort(error as Error);
      return;
    }
    this.signal();
  }

  onResponseEnd(): void {
    if (this.sse && !this.discarding && !this.failure) {
      try {
        this.parser.end(this.queue);
      } catch (error) {
        this.fail(error as Error);
        return;
      }
    }
    this.ended = true;
    this.signal();
  }

  onResponseError(controller: ExchangeController, error: Error): void {
    this.fail(error);
  }

  // ----------------------------------------------------------------------------------- the consumer

  /**
   * Stops the request (or the wait for a connection) with `reason`; the consumer gets it thrown. A no-op
   * once the response ended, failed, or was handed to discardRest().
   */
  abort(reason: Error): void {
    if (!this.open) return;
    this.abortReason = reason;
    this.fail(reason);
    this.controller?.abort(reason);
  }

  /** True while the exchange may still be stopped: not ended, failed, aborted, or handed to discardRest(). */
  get open(): boolean {
    return !this.ended && !this.failure && !this.discarding;
  }

  /** Resolves when the status and headers are in; rejects with the transport error or abort reason. */
  async started(): Promise<void> {
    while (this.statusCode === 0) {
      if (this.failure) throw this.failure;
      if (this.ended) throw new Error('the response ended without a status');
      await this.waitForNews();
    }
  }

  /**
   * The next payloads of an SSE body (at least one), or null at its end. Throws the transport error
   * or abort reason. The returned array is the consumer's to keep.
   */
  async next(): Promise<string[] | null> {
    for (;;) {
      if (this.queue.length > 0) {
        const batch = this.queue;
        this.queue = [];
        if (this.controller?.paused) this.controller.resume();
        return batch;
      }
      if (this.failure) throw this.failure;
      if (this.ended) return null;
      await this.waitForNews();
    }
  }

  /** The whole body of a non-SSE response as text. */
  async text(): Promise<string> {
    while (!this.ended) {
      if (this.failure) throw this.failure;
      await this.waitForNews();
    }
    if (this.failure) throw this.failure;
    return this.raw.length === 1 ? this.raw[0].toString('utf8') : Buffer.concat(this.raw).toString('utf8');
  }

  /**
   * The consumer is done with an SSE body ([DONE]): the rest of the response is read and dropped, so
   * the keep-alive connection returns to the pool. A server that keeps sending is cut off at the body
   * limit.
   */
  discardRest(): void {
    this.discarding = true;
    this.rawBytes = 0;
    this.queue = [];
    if (this.controller?.paused) this.controller.resume();
  }

  private fail(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    this.signal();
  }

  private signal(): void {
    const wake = this.wake;
    if (wake) {
      this.wake = undefined;
      wake();
    }
  }

  private waitForNews(): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve;
    });
  }
}
