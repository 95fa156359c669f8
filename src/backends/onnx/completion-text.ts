/**
 * CompletionText: turns one sequence's tokens into the text the client sees, as it is produced.
 *
 * - UTF-8-safe: tokens are appended as bytes (the vocabulary's view, the same bytes the constraint
 *   engine checked) through a streaming TextDecoder, so half a multi-byte character is never emitted.
 * - Stop sequences are found in the text, also when they straddle token boundaries. The longest tail
 *   of the text that is the beginning of some stop sequence is held back until it can no longer begin
 *   one; the stop text itself is never returned. Hazard: releasing any character that could still
 *   begin a stop leaks the first half of a stop split across two deltas.
 */
export interface TextUpdate {
  /** Newly releasable text (may be empty). */
  text: string;
  /** A stop sequence was found; `text` ends right before it and nothing more follows. */
  stopped: boolean;
}

export class CompletionText {
  private readonly decoder = new TextDecoder('utf-8', { fatal: false });
  private readonly stops: string[];
  private text = '';
  private released = 0;
  private done = false;

  constructor(stops: readonly string[]) {
    this.stops = stops.filter((stop) => stop.length > 0);
  }

  /** Appends a token's bytes (null for special tokens, which add no text). */
  push(bytes: Uint8Array | null): TextUpdate {
    if (this.done) return { text: '', stopped: true };
    if (bytes === null || bytes.length === 0) return { text: '', stopped: false };
    // Released text never holds the start of a stop (see heldBack), so the search starts there.
    const searchFrom = this.released;
    this.text += this.decoder.decode(bytes, { stream: true });
    if (this.stops.length > 0) {
      let earliest = -1;
      for (const stop of this.stops) {
        const at = this.text.indexOf(stop, searchFrom);
        if (at >= 0 && (earliest < 0 || at < earliest)) earliest = at;
      }
      if (earliest >= 0) {
        this.done = true;
        const out = this.text.slice(this.released, Math.max(this.released, earliest));
        this.text = this.text.slice(0, earliest);
        this.released = this.text.length;
        return { text: out, stopped: true };
      }
    }
    const limit = this.text.length - this.heldBack();
    if (limit <= this.released) return { text: '', stopped: false };
    const out = this.text.slice(this.released, limit);
    this.released = limit;
    return { text: out, stopped: false };
  }

  /** Length of the longest tail of the unreleased text that is a proper prefix of a stop sequence. */
  private heldBack(): number {
    let longest = 0;
    const available = this.text.length - this.released;
    for (const stop of this.stops) {
      for (let length = Math.min(stop.length - 1, available); length > longest; length--) {
        if (this.text.endsWith(stop.slice(0, length))) {
          longest = length;
          break;
        }
      }
    }
    return longest;
  }

  /** End of generation (not by a stop sequence): releases what was held back, and any dangling bytes as U+FFFD. */
  finish(): string {
    if (this.done) return '';
    this.done = true;
    this.text += this.decoder.decode();
    const out = this.text.slice(this.released);
    this.released = this.text.length;
    return out;
  }

  /** The full returned text so far. */
  get value(): string {
    return this.text.slice(0, this.released);
  }
}
