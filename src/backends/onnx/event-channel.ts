/**
 * EventChannel: an unbounded single-consumer queue that the batch scheduler pushes a request's events
 * into and `generate()` reads as an AsyncIterable. The scheduler never waits on a slow reader (the
 * batch must not stall for one client); events are small, and a request's total is bounded by its
 * max_tokens.
 */
export class EventChannel<T> {
  private readonly items: T[] = [];
  private head = 0;
  private closed = false;
  private failure: unknown = undefined;
  private wake: (() => void) | null = null;

  push(item: T): void {
    if (this.closed) return;
    this.items.push(item);
    this.notify();
  }

  close(): void {
    this.closed = true;
    this.notify();
  }

  fail(error: unknown): void {
    if (this.closed) return;
    this.failure = error;
    this.closed = true;
    this.notify();
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      if (this.head < this.items.length) {
        const item = this.items[this.head];
        this.items[this.head] = undefined as unknown as T;
        this.head++;
        if (this.head > 1024 && this.head * 2 > this.items.length) {
          this.items.splice(0, this.head);
          this.head = 0;
        }
        yield item;
        continue;
      }
      if (this.failure !== undefined) throw this.failure;
      if (this.closed) return;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
  }
}
