/**
 * The push-style SSE parser: payloads come out whole however the byte stream is cut into chunks
 * (including a CRLF split across two chunks and multi-byte UTF-8 characters cut in half), with any of
 * the three line endings, and an over-long line is an error rather than unbounded buffering.
 */
import { SseDataParser, SseParseError } from '../../../src/backends/openai-http/sse-parser';

function parseAll(chunks: Array<string | Uint8Array>, maxLineBytes?: number): string[] {
  const parser = new SseDataParser(maxLineBytes);
  const out: string[] = [];
  for (const chunk of chunks) parser.push(chunk, out);
  parser.end(out);
  return out;
}

/** Every way of cutting `text` into two chunks, as bytes. */
function everySplit(text: string): Array<[Uint8Array, Uint8Array]> {
  const bytes = Buffer.from(text, 'utf8');
  return Array.from({ length: bytes.length + 1 }, (_, cut) => [bytes.subarray(0, cut), bytes.subarray(cut)]);
}

describe('SseDataParser', () => {
  const stream = 'data: {"a":1}\r\n\r\n: a comment\r\nevent: delta\r\ndata: {"b":"é€😀"}\r\n\r\ndata: [DONE]\r\n\r\n';
  const expected = ['{"a":1}', '{"b":"é€😀"}', '[DONE]'];

  test('one chunk and every two-chunk split give the same payloads', () => {
    expect(parseAll([stream])).toEqual(expected);
    for (const [first, second] of everySplit(stream)) expect(parseAll([first, second])).toEqual(expected);
  });

  test('one byte at a time', () => {
    const bytes = Buffer.from(stream, 'utf8');
    expect(parseAll(Array.from(bytes, (byte) => Uint8Array.of(byte)))).toEqual(expected);
  });

  test('LF and CR line endings, multi-line data joined with newlines, no space after the colon', () => {
    expect(parseAll(['data:x\n\ndata: y\r\r'])).toEqual(['x', 'y']);
    expect(parseAll(['data: line one\ndata: line two\n\n'])).toEqual(['line one\nline two']);
    // A CR at the end of a chunk followed by LF in the next is one line end, not a blank line.
    expect(parseAll(['data: first\r', '\ndata: second\r\n\r\n'])).toEqual(['first\nsecond']);
  });

  test('an event without its closing blank line is delivered at the end of the stream', () => {
    expect(parseAll(['data: {"last":true}'])).toEqual(['{"last":true}']);
    expect(parseAll(['data: {"last":true}\r'])).toEqual(['{"last":true}']);
    expect(parseAll([': only a comment\n\n'])).toEqual([]);
  });

  test('a byte-order mark at the start of the stream is dropped, wherever the first chunk ends; one later on is kept', () => {
    const withBom = '\ufeffdata: first\n\ndata: \ufeffsecond\n\n';
    for (const [first, second] of everySplit(withBom)) expect(parseAll([first, second])).toEqual(['first', '\ufeffsecond']);
  });

  test('bytes that are not UTF-8 become U+FFFD, also when a stream ends in the middle of a character', () => {
    expect(parseAll([Buffer.from('data: a\xffb\n\n', 'latin1')])).toEqual(['a\ufffdb']);
    expect(parseAll([Buffer.from('data: cut ', 'utf8'), Buffer.from('€', 'utf8').subarray(0, 2)])).toEqual(['cut \ufffd']);
  });

  test('a line longer than the limit is an error', () => {
    const parser = new SseDataParser(64);
    const out: string[] = [];
    parser.push('data: short\n\n', out);
    expect(out).toEqual(['short']);
    expect(() => parser.push(`data: ${'x'.repeat(100)}`, out)).toThrow(SseParseError);
  });

  test('many events in one chunk are all found (linear scan)', () => {
    const events = Array.from({ length: 5000 }, (_, index) => `data: ${index}\n\n`).join('');
    const out = parseAll([events]);
    expect(out).toHaveLength(5000);
    expect(out[4999]).toBe('4999');
  });
});
