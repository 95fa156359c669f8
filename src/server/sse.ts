/**
 * Server-sent events: opens the stream lazily (so that an error before the first event can still be
 * a normal JSON error response), writes events as they come, and stops writing once the client has
 * gone. Events sent in the same turn of the event loop (the tokens of one upstream read, say) leave in
 * one socket write: the first one corks the response and the check phase of that same turn
 * (setImmediate) uncorks it — one system call for the batch instead of one per token, and no event
 * waits for anything but the code already running.
 */
import type { ServerResponse } from 'node:http';

export class SseWriter {
  private opened = false;
  private corked = false;

  constructor(private readonly response: ServerResponse) {}

  get started(): boolean {
    return this.opened;
  }

  private open(): void {
    if (this.opened) return;
    this.opened = true;
    this.response.statusCode = 200;
    this.response.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
    this.response.setHeader('Cache-Control', 'no-cache, no-transform');
    this.response.setHeader('Connection', 'keep-alive');
    this.response.setHeader('X-Accel-Buffering', 'no');
    this.response.flushHeaders();
  }

  /** `data: {json}` (OpenAI style) or, with an event name, `event: NAME` + data (native style). */
  send(data: unknown, event?: string): void {
    this.open();
    if (this.response.writableEnded || this.response.destroyed) return;
    const payload = typeof data === 'string' ? data : JSON.stringify(data);
    if (!this.corked) {
      this.corked = true;
      this.response.cork();
      setImmediate(() => this.flush());
    }
    this.response.write(`${event ? `event: ${event}\n` : ''}data: ${payload}\n\n`);
  }

  end(): void {
    this.open();
    this.corked = false; // end() uncorks and flushes whatever is pending
    if (!this.response.writableEnded) this.response.end();
  }

  private flush(): void {
    if (!this.corked) return;
    this.corked = false;
    if (!this.response.writableEnded && !this.response.destroyed) this.response.uncork();
  }
}
