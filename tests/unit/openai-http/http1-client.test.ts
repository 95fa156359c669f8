/**
 * Http1Client against a raw TCP server that writes exact bytes: every framing (Content-Length,
 * chunked with extensions and trailers, until-close, 1xx first), responses cut at every byte, keep-alive
 * reuse and its limits (Connection: close, the server's Keep-Alive hint, a server that closes an idle
 * socket, bytes after a response), the queue behind `connections`, the three timeouts with undici's
 * codes, aborts, and failures (refused, closed mid-body, oversized head).
 */
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { Http1Client, type ExchangeController, type ExchangeHandler, type Http1ClientOptions } from '../../../src/backends/openai-http/http1-client';

interface Received {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

type Responder = (request: string, socket: net.Socket, index: number) => void;

describe('Http1Client', () => {
  let server: net.Server;
  let port: number;
  let respond: Responder = () => undefined;
  const sockets = new Set<net.Socket>();
  let connections = 0;
  let requests = 0;

  beforeAll(async () => {
    server = net.createServer((socket) => {
      connections++;
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
      let buffer = '';
      socket.on('data', (data) => {
        buffer += data.toString('latin1');
        for (;;) {
          const end = buffer.indexOf('\r\n\r\n');
          if (end < 0) return;
          const length = Number(/content-length: (\d+)/i.exec(buffer.slice(0, end))?.[1] ?? 0);
          if (buffer.length < end + 4 + length) return;
          const request = buffer.slice(0, end + 4 + length);
          buffer = buffer.slice(end + 4 + length);
          respond(request, socket, requests++);
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  beforeEach(() => {
    connections = 0;
    requests = 0;
  });

  const options = (overrides: Partial<Http1ClientOptions> = {}): Http1ClientOptions => ({
    connections: 4, connectTimeoutMs: 1000, headersTimeoutMs: 1000, bodyTimeoutMs: 1000, keepAliveTimeoutMs: 5000, ...overrides,
  });

  function call(client: Http1Client, body = '{"x":1}', setup?: (controller: ExchangeController) => void): Promise<Received> {
    return new Promise((resolve, reject) => {
      const received: Received = { status: 0, headers: {}, body: '' };
      const handler: ExchangeHandler = {
        onRequestStart: (controller) => setup?.(controller),
        onResponseStart: (controller, status, headers) => {
          received.status = status;
          received.headers = headers;
        },
        onResponseData: (controller, chunk) => {
          received.body += chunk.toString('utf8');
        },
        onResponseEnd: () => resolve(received),
        onResponseError: (controller, error) => reject(error),
      };
      client.dispatch({ path: '/v1/chat/completions', method: 'POST', headers: { 'content-type': 'application/json' }, body }, handler);
    });
  }

  const json = (body: string, extra = '') => `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`;

  test('sends one well-formed request and reuses the connection for the next ones', async () => {
    let seen = '';
    respond = (request, socket) => {
      seen = request;
      socket.write(json('{"ok":true}'));
    };
    const client = new Http1Client(new URL(`http://127.0.0.1:${port}`), options());
    for (let index = 0; index < 3; index++) expect(await call(client, '{"é":1}')).toMatchObject({ status: 200, body: '{"ok":true}' });
    expect(seen).toMatch(/^POST \/v1\/chat\/completions HTTP\/1\.1\r\n/);
    expect(seen).toContain(`host: 127.0.0.1:${port}\r\n`);
    expect(seen).toContain('content-length: 8\r\n'); // bytes (é is two), not characters (seven)
    expect(seen.endsWith('\r\n\r\n{"é":1}'.replace('é', Buffer.from('é').toString('latin1')))).toBe(true);
    expect(connections).toBe(1);
    await client.close();
  });

  test('chunked bodies with extensions and trailers, cut at every byte, decode the same', async () => {
    const raw = 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ncontent-type: text/event-stream\r\n\r\n' +
      '7;ext=1\r\ndata: a\r\n' + 'C\r\n\n\ndata: [DON\r\n' + '3\r\nE]\n\r\n' + '0\r\nx-trailer: yes\r\n\r\n';
    const client = new Http1Client(new URL(`http://127.0.0.1:${port}`), options({ connections: 1 }));
    for (let cut = 1; cut < raw.length; cut += 3) {
      respond = (request, socket) => {
        socket.write(raw.slice(0, cut));
        setImmediate(() => socket.write(raw.slice(cut)));
      };
      const received = await call(client);
      expect(received.body).toBe('data: a\n\ndata: [DONE]\n');
    }
    expect(connections).toBe(1);
    await client.close();
  });

  test('chunk sizes of several hex digits in either case, bare-LF lines and leading zeros, cut at every byte, decode the same', async () => {
    const payload = (size: number, letter: string) => letter.repeat(size);
    const raw = 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n' +
      `1a\r\n${payload(26, 'a')}\r\n` + `1B\r\n${payload(27, 'b')}\r\n` + `00c\n${payload(12, 'c')}\n` + `10 \r\n${payload(16, 'd')}\r\n` + '0\r\n\r\n';
    const expected = payload(26, 'a') + payload(27, 'b') + payload(12, 'c') + payload(16, 'd');
    const client = new Http1Client(new URL(`http://127.0.0.1:${port}`), options({ connections: 1 }));
    for (let cut = 1; cut < raw.length; cut++) {
      respond = (request, socket) => {
        socket.write(raw.slice(0, cut));
        setImmediate(() => socket.write(raw.slice(cut)));
      };
      expect((await call(client)).body).toBe(expected);
    }
    expect(connections).toBe(1);
    await client.close();
  });

  test('a chunk size of more than 12 hex digits, a size that is not hex, and data not followed by CRLF are errors', async () => {
    const head = 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n';
    const client = new Http1Client(new URL(`http://127.0.0.1:${port}`), options());
    for (const body of ['1000000000000\r\nx\r\n0\r\n\r\n', 'zz\r\nx\r\n0\r\n\r\n', '2\r\nabXY\r\n0\r\n\r\n']) {
      respond = (request, socket) => socket.write(head + body);
      await expect(call(client)).rejects.toMatchObject({ code: 'HPE_INVALID_CHUNK_SIZE' });
    }
    await client.close();
  });

  test('a body framed by the end of the connection, and Connection: close, are not reused', async () => {
    respond = (request, socket) => socket.end('HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\nuntil the end');
    const client = new Http1Client(new URL(`http://127.0.0.1:${port}`), options());
    expect((await call(client)).body).toBe('until the end');
    respond = (request, socket) => socket.write(json('{}', 'connection: close\r\n'));
    await call(client);
    await call(client);
    expect(connections).toBe(3);
    await client.close();
  });

  test('1xx answers are skipped; 204 has no body', async () => {
    respond = (request, socket, index) => socket.write(index === 0 ? `HTTP/1.1 100 Continue\r\n\r\n${json('{"after":"continue"}')}` : 'HTTP/1.1 204 No Content\r\n\r\n');
    const client = new Http1Client(new URL(`http://127.0.0.1:${port}`), options());
    expect(await call(client)).toMatchObject({ status: 200, body: '{"after":"continue"}' });
    expect(await call(client)).toMatchObject({ status: 204, body: '' });
    expect(connections).toBe(1);
    await client.close();
  });

  test('an idle connection the server closes is dropped; the next request opens a new one', async () => {
    respond = (request, socket) => {
      socket.write(json('{}'));
      setTimeout(() => socket.end(), 10);
    };
    const client = new Http1Client(new URL(`http://127.0.0.1:${port}`), options());
    await call(client);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await call(client);
    expect(connections).toBe(2);
    await client.close();
  });

  test("the server's Keep-Alive hint (minus a second) limits reuse", async () => {
    respond = (request, socket) => socket.write(json('{}', 'keep-alive: timeout=1\r\n'));
    const client = new Http1Client(new URL(`http://127.0.0.1:${port}`), options());
    await call(client);
    await call(client);
    expect(connections).toBe(2); // timeout=1 leaves no safe idle time
    await client.close();
  });

  test('bytes after a complete response mean the connection is not reused', async () => {
    respond = (request, socket) => socket.write(`${json('{}')}HTTP/1.1 200 OK\r\n`);
    const client = new Http1Client(new URL(`http://127.0.0.1:${port}`), options());
    await call(client);
    await call(client);
    expect(connections).toBe(2);
    await client.close();
  });

  test('requests beyond `connections` wait in order and all complete', async () => {
    respond = (request, socket, index) => setTimeout(() => socket.write(json(`{"n":${index}}`)), 5);
    const client = new Http1Client(new URL(`http://127.0.0.1:${port}`), options({ connections: 2 }));
    const results = await Promise.all(Array.from({ length: 6 }, () => call(client)));
    expect(results.map((result) => JSON.parse(result.body).n).sort()).toEqual([0, 1, 2, 3, 4, 5]);
    expect(connections).toBe(2);
    await client.close();
  });

  test('timeouts carry undici codes: headers, then between body reads', async () => {
    const client = new Http1Client(new URL(`http://127.0.0.1:${port}`), options({ headersTimeoutMs: 50, bodyTimeoutMs: 50 }));
    respond = () => undefined; // never answers
    await expect(call(client)).rejects.toMatchObject({ code: 'UND_ERR_HEADERS_TIMEOUT' });
    respond = (request, socket) => socket.write('HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc'); // stalls mid-body
    await expect(call(client)).rejects.toMatchObject({ code: 'UND_ERR_BODY_TIMEOUT' });
    await client.close();
  });

  test('a connection closed in the middle of a body, a refused connection and an oversized head are errors', async () => {
    respond = (request, socket) => socket.end('HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc');
    const client = new Http1Client(new URL(`http://127.0.0.1:${port}`), options());
    await expect(call(client)).rejects.toMatchObject({ code: 'UND_ERR_SOCKET' });
    respond = (request, socket) => socket.write(`HTTP/1.1 200 OK\r\nx-big: ${'a'.repeat(70 * 1024)}\r\n\r\n`);
    await expect(call(client)).rejects.toMatchObject({ code: 'UND_ERR_HEADERS_OVERFLOW' });
    await client.close();
    const closedPort = await new Promise<number>((resolve) => {
      const probe = net.createServer().listen(0, '127.0.0.1', () => {
        const free = (probe.address() as AddressInfo).port;
        probe.close(() => resolve(free));
      });
    });
    const refused = new Http1Client(new URL(`http://127.0.0.1:${closedPort}`), options());
    await expect(call(refused)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await refused.close();
  });

  test('abort: while queued it fails at once; in flight it closes the connection; the client stays usable', async () => {
    let hold: net.Socket | undefined;
    respond = (request, socket, index) => {
      if (index === 0) hold = socket; // first request: no answer yet
      else socket.write(json('{"later":true}'));
    };
    const client = new Http1Client(new URL(`http://127.0.0.1:${port}`), options({ connections: 1 }));
    let inFlight!: ExchangeController;
    const first = call(client, '{}', (controller) => (inFlight = controller));
    await new Promise((resolve) => setTimeout(resolve, 20));
    let queued!: ExchangeController;
    const second = call(client, '{}', (controller) => (queued = controller));
    const reason = new Error('client went away');
    queued.abort(reason);
    await expect(second).rejects.toBe(reason);
    inFlight.abort(reason);
    await expect(first).rejects.toBe(reason);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(hold?.destroyed || hold?.readableEnded).toBeTruthy();
    expect(await call(client)).toMatchObject({ body: '{"later":true}' });
    await client.close();
  });

  test('after close, dispatch fails without connecting', async () => {
    const client = new Http1Client(new URL(`http://127.0.0.1:${port}`), options());
    await client.close();
    await expect(call(client)).rejects.toMatchObject({ code: 'UND_ERR_DESTROYED' });
    expect(connections).toBe(0);
  });
});
