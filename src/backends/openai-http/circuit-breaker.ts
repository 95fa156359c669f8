/**
 * A per-backend circuit breaker: after `failureThreshold` consecutive failures the circuit opens and
 * calls fail fast (503) for `resetMs`; then one trial call is let through (half-open) — success closes
 * the circuit, failure opens it again.
 */
export type CircuitState = 'closed' | 'open' | 'half-open';

export class CircuitBreaker {
  private failures = 0;
  private openedAt = 0;
  private trialInFlight = false;
  private current: CircuitState = 'closed';

  constructor(
    private readonly options: { failureThreshold: number; resetMs: number; onChange?: (state: CircuitState) => void },
    private readonly now: () => number = Date.now,
  ) {}

  get state(): CircuitState {
    if (this.current === 'open' && this.now() - this.openedAt >= this.options.resetMs) this.transition('half-open');
    return this.current;
  }

  /** Whether a call may go ahead now; in half-open only one trial at a time. */
  tryAcquire(): boolean {
    const state = this.state;
    if (state === 'closed') return true;
    if (state === 'half-open' && !this.trialInFlight) {
      this.trialInFlight = true;
      return true;
    }
    return false;
  }

  /** Milliseconds until a trial call will be allowed. */
  retryAfterMs(): number {
    return Math.max(0, this.options.resetMs - (this.now() - this.openedAt));
  }

  success(): void {
    this.failures = 0;
    this.trialInFlight = false;
    if (this.current !== 'closed') this.transition('closed');
  }

  failure(): void {
    this.trialInFlight = false;
    this.failures++;
    if (this.current === 'half-open' || this.failures >= this.options.failureThreshold) {
      this.openedAt = this.now();
      this.transition('open');
    }
  }

  private transition(state: CircuitState): void {
    this.current = state;
    this.options.onChange?.(state);
  }
}
