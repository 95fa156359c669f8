/**
 * SseWriter over a real HTTP server and client: events sent in one turn of the event loop leave in one
 * socket write, events sent in later turns still leave in their own turn (nothing waits for the end),
 * every event arrives whole and in order, and a client that has gone is not written to.
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { SseWriter } from '../../../src/server/sse';

type Handler = (response: http.ServerResponse, writes: () => number) => void;

/** Serves one request with `handler`; resolves with the body and each chunk's arrival. */
async function serveOnce(handler: Handler): Promise<{ body: string; chunks: string[] }> {
  const server = http.createServer((request, response) => {
    const socket = response.socket as Socket & { _write: (...args: unknown[]) => void; _writev: (...args: unknown[]) => void };
    let count = 0;
    // Count the socket's own writes (one system call each) under the response's writes.
    const write = socket._write.bind(socket);
    const writev = socket._writev.bind(socket);
    socket._write = (...args: unknown[]) => {
      count++;
      write(...args);
    };
    socket._writev = (...args: unknown[]) => {
      count++;
      writev(...args);
    };
    handler(response, () => count);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    return await new Promise((resolve, reject) => {
      http.get({ port, host: '127.0.0.1', path: '/' }, (response) => {
        const chunks: string[] = [];
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => chunks.push(chunk));
        response.on('end', () => resolve({ body: chunks.join(''), chunks }));
        response.on('error', reject);
      }).on('error', reject);
    });
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

const events = (body: string) => body.split('\n\n').filter(Boolean);

describe('SseWriter', () => {
  test('events sent from separate callbacks of one turn (the reads of one poll phase, here timers) go out in one socket write, whole and in order', async () => {
    let writesForBurst = -1;
    const { body } = await serveOnce((response, writes) => {
      const sse = new SseWriter(response);
      sse.send('start'); // opens the stream
      setTimeout(() => {
        const before = writes();
        // 100 callbacks in one timers phase; Node flushes a response's writes after each callback, so
        // without the cork this would be 100 writes.
        for (let n = 0; n < 100; n++) setTimeout(() => sse.send({ n }), 0);
        setTimeout(() => {
          setImmediate(() => {
            writesForBurst = writes() - before;
            sse.end();
          });
        }, 0);
      }, 5);
    });
    expect(events(body)).toEqual(['data: start', ...Array.from({ length: 100 }, (_, n) => `data: {"n":${n}}`)]);
    expect(writesForBurst).toBeGreaterThanOrEqual(1);
    expect(writesForBurst).toBeLessThanOrEqual(2);
  });

  test('events sent in later turns are not held back until the end', async () => {
    const seen: number[] = [];
    const { body } = await serveOnce((response, writes) => {
      const sse = new SseWriter(response);
      let n = 0;
      const tick = () => {
        sse.send({ n: n++ }, 'token');
        setImmediate(() => {
          seen.push(writes());
          if (n < 5) setTimeout(tick, 5);
          else sse.end();
        });
      };
      tick();
    });
    expect(events(body)).toEqual(Array.from({ length: 5 }, (_, n) => `event: token\ndata: {"n":${n}}`));
    // Each turn's event was written in that turn: the count grows every time.
    for (let index = 1; index < seen.length; index++) expect(seen[index]).toBeGreaterThan(seen[index - 1]);
  });

  test('end() flushes events sent in the same turn; nothing is written after the response ended or the client left', async () => {
    const { body } = await serveOnce((response) => {
      const sse = new SseWriter(response);
      sse.send('first');
      sse.send('[DONE]');
      sse.end();
      sse.send('too late');
    });
    expect(events(body)).toEqual(['data: first', 'data: [DONE]']);

    const gone = await serveOnce((response) => {
      const sse = new SseWriter(response);
      sse.send('before');
      response.destroy();
      expect(() => sse.send('after')).not.toThrow();
      expect(() => sse.end()).not.toThrow();
    }).catch((error: Error) => error);
    expect(String((gone as Error).message)).toMatch(/socket hang up|aborted|ECONNRESET/); // the client saw the connection drop
  });
});
