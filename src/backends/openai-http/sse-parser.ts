/**
 * Parses a server-sent-events byte stream into `data:` payloads (one per event; multi-line data joined
 * with newlines). Bounded: a line longer than `maxLineBytes` is an error (a misbehaving server cannot
 * make us buffer without end).
 */
export class SseParseError extends Error {}

export async function* parseSseData(chunks: AsyncIterable<Uint8Array | string>, maxLineBytes = 4 * 1024 * 1024): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffer = '';
  let data: string[] = [];
  for await (const chunk of chunks) {
    buffer += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    let newline: number;
    while ((newline = buffer.search(/\r\n|\n|\r/)) >= 0) {
      const line = buffer.slice(0, newline);
      const width = buffer.startsWith('\r\n', newline) ? 2 : 1;
      buffer = buffer.slice(newline + width);
      if (line === '') {
        if (data.length > 0) yield data.join('\n');
        data = [];
      } else if (line.startsWith('data:')) {
        data.push(line.slice(line.startsWith('data: ') ? 6 : 5));
      }
      // `event:`, `id:`, `retry:` and comments (`:`) carry nothing we use.
    }
    if (buffer.length > maxLineBytes) throw new SseParseError(`SSE line longer than ${maxLineBytes} bytes`);
  }
  buffer += decoder.decode();
  if (buffer.startsWith('data:')) data.push(buffer.slice(buffer.startsWith('data: ') ? 6 : 5));
  if (data.length > 0) yield data.join('\n');
}
