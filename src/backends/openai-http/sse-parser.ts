/**
 * Parses a server-sent-events byte stream into `data:` payloads (one per event; multi-line data joined
 * with newlines), push-style: feed it the chunks as they arrive and it appends every completed payload
 * to the array you pass — no async iteration per event. Lines end at CRLF, LF or CR (a CR at the end of
 * a chunk waits for the next chunk, in case an LF follows). Bounded: a line longer than `maxLineBytes`
 * is an error (a misbehaving server cannot make us buffer without end).
 */
import { StringDecoder } from 'node:string_decoder';

export class SseParseError extends Error {}

export class SseDataParser {
  // StringDecoder (Node's own UTF-8 decoder, keeping a character split across chunks for the next one)
  // rather than TextDecoder, whose streaming decode goes through ICU and costs about twice as much per
  // chunk — a chunk per token. A byte-order mark at the very start is dropped, as the SSE format says
  // (and as TextDecoder did).
  private readonly decoder = new StringDecoder('utf8');
  private started = false;
  private buffer = '';
  private data: string[] = [];

  constructor(private readonly maxLineBytes = 4 * 1024 * 1024) {}

  /** Adds a chunk; appends the payloads of the events it completes to `out`. Throws SseParseError. */
  push(chunk: Uint8Array | string, out: string[]): void {
    let text = typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
    if (!this.started && text.length > 0) {
      this.started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    const buffer = this.buffer.length === 0 ? text : this.buffer + text;
    let start = 0;
    // The next CR and LF are looked up again only once passed: linear in the chunk whatever the line ends.
    let cr = -1;
    let lf = -1;
    for (;;) {
      if (cr < start) cr = nextIndex(buffer, '\r', start);
      if (lf < start) lf = nextIndex(buffer, '\n', start);
      const end = Math.min(cr, lf);
      if (end === Infinity) break;
      // A CR as the last character may be the first half of a CRLF split across chunks: wait.
      if (buffer.charCodeAt(end) === 13 && end === buffer.length - 1) break;
      this.line(buffer.slice(start, end), out);
      start = end + (buffer.charCodeAt(end) === 13 && buffer.charCodeAt(end + 1) === 10 ? 2 : 1);
    }
    this.buffer = start === 0 ? buffer : buffer.slice(start);
    if (this.buffer.length > this.maxLineBytes) throw new SseParseError(`SSE line longer than ${this.maxLineBytes} bytes`);
  }

  /** The stream ended: appends the payload of an event left without its closing blank line. */
  end(out: string[]): void {
    const rest = this.buffer + this.decoder.end();
    this.buffer = '';
    const line = rest.endsWith('\r') ? rest.slice(0, -1) : rest;
    if (line.length > 0) this.line(line, out);
    if (this.data.length > 0) out.push(this.data.join('\n'));
    this.data = [];
  }

  private line(line: string, out: string[]): void {
    if (line.length > this.maxLineBytes) throw new SseParseError(`SSE line longer than ${this.maxLineBytes} bytes`);
    if (line.length === 0) {
      if (this.data.length > 0) out.push(this.data.length === 1 ? this.data[0] : this.data.join('\n'));
      this.data = [];
    } else if (line.startsWith('data:')) {
      this.data.push(line.slice(line.charCodeAt(5) === 32 ? 6 : 5));
    }
    // `event:`, `id:`, `retry:` and comments (`:`) carry nothing we use.
  }
}

/** Index of `char` in `text` at or after `from`; Infinity when there is none. */
function nextIndex(text: string, char: string, from: number): number {
  const index = text.indexOf(char, from);
  return index < 0 ? Infinity : index;
}
