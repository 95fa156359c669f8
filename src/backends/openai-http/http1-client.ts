/**
 * Http1Client: a small keep-alive HTTP/1.1 client for plain-`http:` backends — the hot path of every
 * remote generation. Measured side by side on the shared 2-core machine (a bare node:http proxy in front
 * of the fixture server, one client): undici's dispatch costs ≈ 0.07 ms more CPU and ≈ 0.1 ms more
 * latency per request than one socket write and a direct parse of the answer, and the whole gateway
 * budget of issue 11 is 1 ms. `https:` backends keep undici (TLS, ALPN); see openai-http-backend.ts.
 *
 * What it does, and nothing more: one request at a time per connection (no pipelining), up to
 * `connections` sockets with a FIFO queue behind them; the request head and body go out in one write;
 * responses are framed by Content-Length, chunked Transfer-Encoding (extensions and trailers skipped),
 * or the connection's end; 1xx answers are skipped; a socket is reused only after a complete response
 * without `Connection: close`, and an idle socket is dropped when the server closes it, after the
 * server's `Keep-Alive: timeout=N` hint (minus a second), or after `keepAliveTimeoutMs`.
 *
 * Timeouts (the same phases and error codes as undici's, so the backend maps them the same way):
 * connect, headers (request written → status line and headers in), body (between two reads).
 * Bounded: a response head over 64 KiB, a chunk-size line over 1 KiB, or bytes after a complete
 * response on a keep-alive connection are errors.
 */
import net from 'node:net';

export interface ExchangeController {
  abort(reason: Error): void;
  pause(): void;
  resume(): void;
  readonly paused: boolean;
}

/** The handler shape undici's dispatch uses too (UpstreamExchange serves both). */
export interface ExchangeHandler {
  onRequestStart?(controller: ExchangeController, context: unknown): void;
  onResponseStart?(controller: ExchangeController, statusCode: number, headers: Record<string, string | string[] | undefined>, statusMessage?: string): void;
  onResponseData?(controller: ExchangeController, chunk: Buffer): void;
  onResponseEnd?(controller: ExchangeController, trailers: Record<string, string | string[] | undefined>): void;
  onResponseError?(controller: ExchangeController, error: Error): void;
}

export interface Http1Request {
  path: string;
  method: string;
  /** Header names in lower case. content-length and host are added. */
  headers: Record<string, string>;
  body?: string;
}

export interface Http1ClientOptions {
  connections: number;
  connectTimeoutMs: number;
  headersTimeoutMs: number;
  bodyTimeoutMs: number;
  keepAliveTimeoutMs: number;
}

/** Errors with undici's codes, so one mapping serves both transports. */
export class Http1Error extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
    this.name = 'Http1Error';
  }
}

const MAX_HEAD_BYTES = 64 * 1024;
const MAX_CHUNK_LINE = 1024;
const EMPTY_TRAILERS = Object.freeze({}) as Record<string, string | string[] | undefined>;

type BodyFraming = { kind: 'none' } | { kind: 'length'; remaining: number } | { kind: 'chunked' } | { kind: 'close' };

/** One request on one connection: the controller the handler sees, and the response parser. */
class Exchange implements ExchangeController {
  paused = false;
  aborted = false;
  done = false;
  connection: Connection | undefined;
  // Response parsing state.
  private head: Buffer | undefined;
  /** The final (non-1xx) status line and headers are in. */
  statusSeen = false;
  private framing: BodyFraming = { kind: 'none' };
  private chunkRemaining = 0;
  /** Chunked decoding: 'size' (reading a size line), 'data', 'data-crlf', 'trailers'. */
  private chunkState: 'size' | 'data' | 'data-crlf' | 'trailers' = 'size';
  private line: Buffer | undefined;
  keepAlive = true;
  keepAliveHintMs: number | undefined;

  constructor(
    readonly request: Http1Request,
    readonly handler: ExchangeHandler,
    private readonly client: Http1Client,
  ) {}

  abort(reason: Error): void {
    if (this.aborted || this.done) return;
    this.aborted = true;
    this.client.abortExchange(this, reason);
  }

  pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.connection?.socket.pause();
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.connection?.socket.resume();
  }

  /** Feeds response bytes; returns the unconsumed tail when the response completed, else undefined. Throws Http1Error. */
  feed(data: Buffer): Buffer | undefined {
    let offset = 0;
    while (offset < data.length || (this.statusSeen && this.framing.kind === 'none')) {
      if (!this.statusSeen) {
        const consumed = this.readHead(data, offset);
        if (consumed < 0) return undefined; // head incomplete
        offset = consumed;
        continue;
      }
      switch (this.framing.kind) {
        case 'none':
          this.finish();
          return data.subarray(offset);
        case 'length': {
          const take = Math.min(this.framing.remaining, data.length - offset);
          if (take > 0) this.deliver(data.subarray(offset, offset + take));
          offset += take;
          this.framing.remaining -= take;
          if (this.framing.remaining === 0) {
            this.finish();
            return data.subarray(offset);
          }
          return undefined;
        }
        case 'close':
          this.deliver(offset === 0 ? data : data.subarray(offset));
          return undefined;
        case 'chunked': {
          const next = this.readChunked(data, offset);
          if (next < 0) return undefined;
          if (this.done) return data.subarray(next);
          offset = next;
          break;
        }
      }
    }
    return undefined;
  }

  /** The connection ended: completes a read-until-close body, fails anything else. */
  ended(): Error | undefined {
    if (this.done) return undefined;
    if (this.statusSeen && this.framing.kind === 'close') {
      this.finish();
      return undefined;
    }
    return new Http1Error(this.statusSeen ? 'the server closed the connection in the middle of the response' : 'the server closed the connection before answering', 'UND_ERR_SOCKET');
  }

  /** Parses the status line and headers; returns the offset after them, or -1 when more bytes are needed. */
  private readHead(data: Buffer, offset: number): number {
    const bytes = this.head ? Buffer.concat([this.head, data.subarray(offset)]) : data.subarray(offset);
    const end = bytes.indexOf('\r\n\r\n');
    if (end < 0) {
      if (bytes.length > MAX_HEAD_BYTES) throw new Http1Error(`response head larger than ${MAX_HEAD_BYTES} bytes`, 'UND_ERR_HEADERS_OVERFLOW');
      this.head = Buffer.from(bytes);
      return -1;
    }
    if (end > MAX_HEAD_BYTES) throw new Http1Error(`response head larger than ${MAX_HEAD_BYTES} bytes`, 'UND_ERR_HEADERS_OVERFLOW');
    const consumedFromData = end + 4 - (this.head?.length ?? 0);
    this.head = undefined;
    const lines = bytes.toString('latin1', 0, end).split('\r\n');
    const status = /^HTTP\/1\.([01]) (\d{3})(?: (.*))?$/.exec(lines[0]);
    if (!status) throw new Http1Error(`malformed status line: ${JSON.stringify(lines[0].slice(0, 80))}`, 'HPE_INVALID_CONSTANT');
    const statusCode = Number(status[2]);
    const headers: Record<string, string | string[] | undefined> = {};
    for (let index = 1; index < lines.length; index++) {
      const line = lines[index];
      const colon = line.indexOf(':');
      if (colon <= 0) throw new Http1Error(`malformed header line: ${JSON.stringify(line.slice(0, 80))}`, 'HPE_INVALID_HEADER_TOKEN');
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      const previous = headers[name];
      headers[name] = previous === undefined ? value : Array.isArray(previous) ? [...previous, value] : [previous, value];
    }
    const offsetAfter = offset + consumedFromData;
    if (statusCode < 200) return offsetAfter; // 1xx: the real answer follows
    this.statusSeen = true;
    const connection = String(headers.connection ?? '').toLowerCase();
    if (status[1] === '0' ? !connection.includes('keep-alive') : connection.includes('close')) this.keepAlive = false;
    const hint = /timeout=(\d+)/i.exec(String(headers['keep-alive'] ?? ''));
    if (hint) this.keepAliveHintMs = Number(hint[1]) * 1000;
    const transferEncoding = String(headers['transfer-encoding'] ?? '').toLowerCase();
    const contentLength = headers['content-length'];
    if (this.request.method === 'HEAD' || statusCode === 204 || statusCode === 304) this.framing = { kind: 'none' };
    else if (transferEncoding.length > 0) {
      if (!/(^|,)\s*chunked\s*$/.test(transferEncoding)) throw new Http1Error(`unsupported transfer-encoding: ${transferEncoding}`, 'UND_ERR_NOT_SUPPORTED');
      this.framing = { kind: 'chunked' };
    } else if (contentLength !== undefined) {
      const length = Number(Array.isArray(contentLength) ? contentLength[0] : contentLength);
      if (!Number.isSafeInteger(length) || length < 0 || (Array.isArray(contentLength) && contentLength.some((value) => Number(value) !== length))) {
        throw new Http1Error('invalid content-length', 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH');
      }
      this.framing = length === 0 ? { kind: 'none' } : { kind: 'length', remaining: length };
    } else {
      this.framing = { kind: 'close' };
      this.keepAlive = false;
    }
    this.handler.onResponseStart?.(this, statusCode, headers, status[3] ?? '');
    return offsetAfter;
  }

  /** Chunked decoding from `offset`; returns the new offset, or -1 when all of `data` was consumed. */
  private readChunked(data: Buffer, offset: number): number {
    while (offset < data.length) {
      if (this.chunkState === 'data') {
        const take = Math.min(this.chunkRemaining, data.length - offset);
        this.deliver(data.subarray(offset, offset + take));
        offset += take;
        this.chunkRemaining -= take;
        if (this.chunkRemaining === 0) this.chunkState = 'data-crlf';
        continue;
      }
      // Fast paths for the usual bytes, whole in this buffer: the CRLF after a chunk's data, and a size
      // line of hex digits and CRLF. Anything else (a line split across reads, extensions, a bare LF,
      // trailers, errors) takes the general line reader below, which decides.
      if (this.line === undefined && this.chunkState !== 'trailers') {
        if (this.chunkState === 'data-crlf') {
          if (data[offset] === 13 && data[offset + 1] === 10) {
            offset += 2;
            this.chunkState = 'size';
            continue;
          }
        } else {
          let size = 0;
          let index = offset;
          for (let digit = hexDigit(data[index]); digit >= 0 && index - offset < 12; digit = hexDigit(data[++index])) size = size * 16 + digit;
          if (index > offset && data[index] === 13 && data[index + 1] === 10) {
            offset = index + 2;
            this.chunkRemaining = size;
            this.chunkState = size === 0 ? 'trailers' : 'data';
            continue;
          }
        }
      }
      // size line, CRLF after data, or a trailer line: read up to the next LF.
      const newline = data.indexOf(10, offset);
      const piece = data.subarray(offset, newline < 0 ? data.length : newline + 1);
      this.line = this.line ? Buffer.concat([this.line, piece]) : piece;
      if (this.line.length > MAX_CHUNK_LINE && this.chunkState !== 'trailers') throw new Http1Error('chunk-size line too long', 'HPE_INVALID_CHUNK_SIZE');
      if (this.line.length > MAX_HEAD_BYTES) throw new Http1Error('trailers too long', 'UND_ERR_HEADERS_OVERFLOW');
      if (newline < 0) {
        this.line = Buffer.from(this.line);
        return -1;
      }
      offset = newline + 1;
      const text = this.line.toString('latin1').replace(/\r?\n$/, '');
      this.line = undefined;
      if (this.chunkState === 'data-crlf') {
        if (text !== '') throw new Http1Error('missing CRLF after a chunk', 'HPE_INVALID_CHUNK_SIZE');
        this.chunkState = 'size';
      } else if (this.chunkState === 'size') {
        const size = /^([0-9a-fA-F]{1,12})\s*(?:;.*)?$/.exec(text);
        if (!size) throw new Http1Error(`invalid chunk size: ${JSON.stringify(text.slice(0, 40))}`, 'HPE_INVALID_CHUNK_SIZE');
        this.chunkRemaining = parseInt(size[1], 16);
        this.chunkState = this.chunkRemaining === 0 ? 'trailers' : 'data';
      } else if (text === '') {
        this.finish();
        return offset;
      }
      // (a trailer line: skipped)
    }
    return -1;
  }

  private deliver(chunk: Buffer): void {
    if (chunk.length > 0) this.handler.onResponseData?.(this, chunk);
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    this.client.completeExchange(this);
  }
}

interface Connection {
  socket: net.Socket;
  exchange: Exchange | undefined;
  /** Time-out timer for the current phase (connect, headers, body) or the idle keep-alive limit. */
  timer: NodeJS.Timeout | undefined;
  phase: 'connect' | 'headers' | 'body' | 'idle';
  /** Counted out of `open` (closed or destroyed). */
  gone: boolean;
  connected: boolean;
  idleLimitMs: number;
}

export class Http1Client {
  private readonly idle: Connection[] = [];
  private readonly queue: Exchange[] = [];
  private open = 0;
  private closed = false;
  private readonly hostHeader: string;
  private readonly port: number;
  private readonly hostname: string;

  constructor(
    origin: URL,
    private readonly options: Http1ClientOptions,
  ) {
    if (origin.protocol !== 'http:') throw new TypeError(`Http1Client speaks plain http: only (got ${origin.protocol})`);
    this.hostHeader = origin.host;
    this.port = Number(origin.port || 80);
    this.hostname = origin.hostname.replace(/^\[(.*)\]$/, '$1');
  }

  /** Starts a request; the handler hears everything, errors included (never throws). */
  dispatch(request: Http1Request, handler: ExchangeHandler): void {
    const exchange = new Exchange(request, handler, this);
    if (this.closed) {
      exchange.done = true;
      handler.onResponseError?.(exchange, new Http1Error('the client is closed', 'UND_ERR_DESTROYED'));
      return;
    }
    handler.onRequestStart?.(exchange, undefined);
    if (exchange.aborted) return;
    const connection = this.idle.pop();
    if (connection) this.send(connection, exchange);
    else if (this.open < this.options.connections) this.send(this.connect(), exchange);
    else this.queue.push(exchange);
  }

  /** Closes idle connections now and the others as their responses end; later dispatches fail. */
  async close(): Promise<void> {
    this.closed = true;
    for (const connection of this.idle.splice(0)) this.destroy(connection);
    for (const exchange of this.queue.splice(0)) this.fail(exchange, new Http1Error('the client is closed', 'UND_ERR_DESTROYED'));
  }

  // ------------------------------------------------------------------------------- called by Exchange

  abortExchange(exchange: Exchange, reason: Error): void {
    const queued = this.queue.indexOf(exchange);
    if (queued >= 0) this.queue.splice(queued, 1);
    const connection = exchange.connection;
    if (connection) {
      connection.exchange = undefined;
      this.destroy(connection);
    }
    this.fail(exchange, reason);
  }

  completeExchange(exchange: Exchange): void {
    const connection = exchange.connection!;
    this.clearTimer(connection);
    connection.exchange = undefined;
    exchange.handler.onResponseEnd?.(exchange, EMPTY_TRAILERS);
    if (connection.socket.destroyed) return;
    if (!exchange.keepAlive || this.closed) {
      this.destroy(connection); // (forget() lets a queued request open a new connection)
      return;
    }
    if (exchange.paused) connection.socket.resume();
    connection.idleLimitMs = exchange.keepAliveHintMs !== undefined
      ? Math.max(0, Math.min(this.options.keepAliveTimeoutMs, exchange.keepAliveHintMs - 1000))
      : this.options.keepAliveTimeoutMs;
    this.release(connection);
  }

  // ------------------------------------------------------------------------------------- connections

  private connect(): Connection {
    this.open++;
    const socket = net.connect({ host: this.hostname, port: this.port });
    socket.setNoDelay(true);
    const connection: Connection = { socket, exchange: undefined, timer: undefined, phase: 'connect', gone: false, connected: false, idleLimitMs: this.options.keepAliveTimeoutMs };
    this.arm(connection, 'connect', this.options.connectTimeoutMs, () => new Http1Error(`connect timed out after ${this.options.connectTimeoutMs} ms`, 'UND_ERR_CONNECT_TIMEOUT'));
    socket.once('connect', () => {
      connection.connected = true;
      socket.setKeepAlive(true, 60_000);
      if (connection.exchange) this.write(connection, connection.exchange);
    });
    socket.on('data', (data: Buffer) => this.onData(connection, data));
    socket.on('end', () => this.onEnd(connection, undefined));
    socket.on('error', (error: Error) => this.onEnd(connection, error));
    socket.on('close', () => this.onEnd(connection, undefined));
    return connection;
  }

  private send(connection: Connection, exchange: Exchange): void {
    connection.exchange = exchange;
    exchange.connection = connection;
    if (exchange.paused) connection.socket.pause();
    if (connection.connected) this.write(connection, exchange);
  }

  private write(connection: Connection, exchange: Exchange): void {
    const { request } = exchange;
    const body = request.body ?? '';
    let head = `${request.method} ${request.path} HTTP/1.1\r\nhost: ${this.hostHeader}\r\nconnection: keep-alive\r\n`;
    for (const name in request.headers) head += `${name}: ${request.headers[name]}\r\n`;
    if (body.length > 0 || request.method === 'POST' || request.method === 'PUT') head += `content-length: ${Buffer.byteLength(body)}\r\n`;
    connection.socket.write(`${head}\r\n${body}`);
    this.arm(connection, 'headers', this.options.headersTimeoutMs, () => new Http1Error(`no response headers within ${this.options.headersTimeoutMs} ms`, 'UND_ERR_HEADERS_TIMEOUT'));
  }

  private onData(connection: Connection, data: Buffer): void {
    const exchange = connection.exchange;
    if (!exchange) {
      // Bytes on an idle connection: the server is confused; never reuse it.
      this.destroy(connection);
      return;
    }
    let rest: Buffer | undefined;
    try {
      rest = exchange.feed(data);
    } catch (error) {
      connection.exchange = undefined;
      this.destroy(connection);
      this.fail(exchange, error as Error);
      return;
    }
    if (exchange.done) {
      if (rest && rest.length > 0 && !connection.socket.destroyed) {
        // A keep-alive connection must carry nothing after the response.
        this.idleRemove(connection);
        this.destroy(connection);
      }
      return;
    }
    if (!exchange.statusSeen || exchange.aborted) return; // the headers timeout still runs
    // Between two reads of the body: one timer, refreshed rather than re-created on every read.
    if (connection.phase === 'body' && connection.timer) connection.timer.refresh();
    else this.arm(connection, 'body', this.options.bodyTimeoutMs, () => new Http1Error(`no data for ${this.options.bodyTimeoutMs} ms`, 'UND_ERR_BODY_TIMEOUT'));
  }

  private onEnd(connection: Connection, error: Error | undefined): void {
    const exchange = connection.exchange;
    connection.exchange = undefined;
    this.idleRemove(connection);
    if (!connection.socket.destroyed) connection.socket.destroy();
    this.forget(connection);
    if (exchange && !exchange.done) {
      const failure = error ?? exchange.ended();
      if (failure) this.fail(exchange, failure);
    }
  }

  private release(connection: Connection): void {
    const waiting = this.queue.shift();
    if (waiting) {
      this.send(connection, waiting);
      return;
    }
    if (connection.idleLimitMs <= 0) {
      this.destroy(connection);
      return;
    }
    this.idle.push(connection);
    this.arm(connection, 'idle', connection.idleLimitMs, undefined);
    connection.timer?.unref();
  }

  private next(): void {
    if (this.queue.length > 0 && this.open < this.options.connections && !this.closed) this.send(this.connect(), this.queue.shift()!);
  }

  private destroy(connection: Connection): void {
    if (!connection.socket.destroyed) connection.socket.destroy();
    this.forget(connection);
  }

  /** Counts a connection out exactly once, and lets a queued request open a new one. */
  private forget(connection: Connection): void {
    if (connection.gone) return;
    connection.gone = true;
    this.clearTimer(connection);
    this.open--;
    this.next();
  }

  private idleRemove(connection: Connection): void {
    const index = this.idle.indexOf(connection);
    if (index >= 0) this.idle.splice(index, 1);
  }

  private fail(exchange: Exchange, error: Error): void {
    if (exchange.done) return;
    exchange.done = true;
    exchange.handler.onResponseError?.(exchange, error);
  }

  /** (Re)starts the connection's one timer; `error` undefined means an idle limit (close quietly). */
  private arm(connection: Connection, phase: Connection['phase'], ms: number, error: (() => Error) | undefined): void {
    connection.phase = phase;
    const fire = () => {
      connection.timer = undefined;
      const exchange = connection.exchange;
      connection.exchange = undefined;
      this.idleRemove(connection);
      this.destroy(connection);
      if (exchange && error) this.fail(exchange, error());
    };
    if (connection.timer) clearTimeout(connection.timer);
    connection.timer = setTimeout(fire, ms);
  }

  private clearTimer(connection: Connection): void {
    if (connection.timer) clearTimeout(connection.timer);
    connection.timer = undefined;
  }
}

/** The value of an ASCII hex digit byte, or -1 (also for undefined: past the end of the buffer). */
function hexDigit(byte: number | undefined): number {
  if (byte === undefined) return -1;
  if (byte >= 48 && byte <= 57) return byte - 48;
  const lower = byte | 0x20;
  return lower >= 97 && lower <= 102 ? lower - 87 : -1;
}
