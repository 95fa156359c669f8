/**
 * Server-sent events: opens the stream lazily (so that an error before the first event can still be
 * a normal JSON error response), writes events without buffering, and stops writing once the client
 * has gone.
 */
import type { ServerResponse } from 'node:http';

export class SseWriter {
  private opened = false;

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
    this.response.write(`${event ? `event: ${event}\n` : ''}data: ${payload}\n\n`);
  }

  end(): void {
    this.open();
    if (!this.response.writableEnded) this.response.end();
  }
}
