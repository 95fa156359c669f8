/**
 * UpstreamExchange over a real HTTP server and a real undici pool: SSE payloads in order, error bodies
 * as text, the keep-alive connection reused after [DONE], abort at every stage (while queued for a
 * connection, before headers, mid-stream), and backpressure that loses nothing.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';
import { UpstreamExchange, UpstreamBodyTooLargeError } from '../../../src/backends/openai-http/upstream-exchange';

type Handler = (request: http.IncomingMessage, response: http.ServerResponse) => void;

describe('UpstreamExchange', () => {
  let server: http.Server;
  let pool: Pool;
  let handler: Handler = () => undefined;
  const connections: string[] = [];

  beforeAll(async () => {
    server = http.createServer((request, response) => {
      connections.push(`${request.socket.remotePort}`);
      handler(request, response);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    pool = new Pool(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, { connections: 1, bodyTimeout: 2000, headersTimeout: 2000 });
  });
  afterAll(async () => {
    await pool.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  function start(limits: { line?: number; body?: number } = {}): UpstreamExchange {
    const exchange = new UpstreamExchange(limits.line ?? 1 << 20, limits.body ?? 1 << 20);
    pool.dispatch({ path: '/v1/chat/completions', method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }, exchange);
    return exchange;
  }

  async function drain(exchange: UpstreamExchange): Promise<string[]> {
    const all: string[] = [];
    let batch: string[] | null;
    while ((batch = await exchange.next()) !== null) all.push(...batch);
    return all;
  }

  test('SSE payloads arrive in order across writes, and the connection is reused after [DONE]', async () => {
    handler = (request, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.write('data: {"n":1}\n\n');
      setTimeout(() => {
        response.write('data: {"n":2}\n\ndata: [DO');
        response.end('NE]\n\n');
      }, 10);
    };
    connections.length = 0;
    for (let round = 0; round < 3; round++) {
      const exchange = start();
      await exchange.started();
      expect(exchange.statusCode).toBe(200);
      expect(exchange.sse).toBe(true);
      const seen: string[] = [];
      let batch: string[] | null;
      read: while ((batch = await exchange.next()) !== null) {
        for (const data of batch) {
          if (data === '[DONE]') {
            exchange.discardRest();
            break read;
          }
          seen.push(data);
        }
      }
      expect(seen).toEqual(['{"n":1}', '{"n":2}']);
      // Stopping after [DONE] must not abort: the socket goes back to the pool.
      exchange.abort(new Error('should be ignored'));
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(new Set(connections).size).toBe(1);
  });

  test('an error status gives its body as text', async () => {
    handler = (request, response) => {
      response.writeHead(503, { 'content-type': 'application/json' });
      response.end('{"error":{"message":"overloaded"}}');
    };
    const exchange = start();
    await exchange.started();
    expect(exchange.statusCode).toBe(503);
    expect(exchange.sse).toBe(false);
    expect(await exchange.text()).toBe('{"error":{"message":"overloaded"}}');
  });

  test('abort before the headers rejects started() with the reason, and the server sees the close', async () => {
    let closed!: () => void;
    const serverSawClose = new Promise<void>((resolve) => (closed = resolve));
    handler = (request, response) => response.on('close', closed); // never answers
    const exchange = start();
    setTimeout(() => exchange.abort(new DOMException('total time limit', 'TimeoutError')), 30);
    await expect(exchange.started()).rejects.toMatchObject({ name: 'TimeoutError' });
    await serverSawClose;
  });

  test('abort mid-stream rejects next() with the reason', async () => {
    handler = (request, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.write('data: first\n\n');
    };
    const exchange = start();
    await exchange.started();
    expect(await exchange.next()).toEqual(['first']);
    const reason = new Error('client went away');
    exchange.abort(reason);
    await expect(exchange.next()).rejects.toBe(reason);
  });

  test('abort while waiting for a connection fails at once, without waiting for the pool', async () => {
    let release!: () => void;
    handler = (request, response) => {
      release = () => {
        response.writeHead(200, { 'content-type': 'text/event-stream' });
        response.end('data: done\n\n');
      };
    };
    const busy = start(); // holds the pool's only connection
    await new Promise((resolve) => setTimeout(resolve, 20));
    const queued = start();
    const reason = new Error('cancelled while queued');
    const startedAt = Date.now();
    queued.abort(reason);
    await expect(queued.started()).rejects.toBe(reason);
    expect(Date.now() - startedAt).toBeLessThan(500);
    release();
    await busy.started();
    expect(await drain(busy)).toEqual(['done']);
  });

  test('many events with a slow reader: nothing is lost (backpressure)', async () => {
    const count = 5000;
    handler = (request, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.end(Array.from({ length: count }, (_, index) => `data: ${index}\n\n`).join(''));
    };
    const exchange = start();
    await exchange.started();
    const all: string[] = [];
    let batch: string[] | null;
    while ((batch = await exchange.next()) !== null) {
      all.push(...batch);
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(all).toHaveLength(count);
    expect(all[count - 1]).toBe(String(count - 1));
  });

  test('a non-SSE body over the limit fails with UpstreamBodyTooLargeError', async () => {
    handler = (request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(`{"text":"${'x'.repeat(4096)}"}`);
    };
    const exchange = start({ body: 1024 });
    await exchange.started();
    await expect(exchange.text()).rejects.toBeInstanceOf(UpstreamBodyTooLargeError);
  });

  test('an over-long SSE line fails the exchange', async () => {
    handler = (request, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.end(`data: ${'y'.repeat(4096)}\n\n`);
    };
    const exchange = start({ line: 1024 });
    await exchange.started();
    await expect(drain(exchange)).rejects.toThrow(/longer than 1024 bytes/);
  });
});
