/**
 * CompletionText: UTF-8-safe deltas and stop sequences across token boundaries.
 */
import { CompletionText } from '../../../src/backends/onnx/completion-text';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

describe('CompletionText', () => {
  test('never releases half a multi-byte character', () => {
    const text = new CompletionText([]);
    const euro = bytes('€'); // three bytes
    expect(text.push(euro.subarray(0, 1)).text).toBe('');
    expect(text.push(euro.subarray(1, 2)).text).toBe('');
    expect(text.push(euro.subarray(2, 3)).text).toBe('€');
    const emoji = bytes('😀x');
    expect(text.push(emoji.subarray(0, 2)).text).toBe('');
    expect(text.push(emoji.subarray(2)).text).toBe('😀x');
    expect(text.value).toBe('€😀x');
  });

  test('finds a stop sequence split across tokens and drops it and what follows', () => {
    const text = new CompletionText(['END']);
    let out = '';
    for (const piece of ['Hello E', 'N', 'Dwards']) {
      const update = text.push(bytes(piece));
      out += update.text;
      if (update.stopped) break;
    }
    expect(out).toBe('Hello ');
    expect(text.value).toBe('Hello ');
  });

  test('holds back only what could begin a stop, and releases it at the end', () => {
    const text = new CompletionText(['\n\n', 'STOP']);
    expect(text.push(bytes('abcST')).text).toBe('abc');
    expect(text.push(bytes('O')).text).toBe('');
    expect(text.push(bytes('x')).text).toBe('STOx');
    expect(text.push(bytes('\n')).text).toBe('');
    expect(text.finish()).toBe('\n');
    expect(text.value).toBe('abcSTOx\n');
  });

  test('the earliest of several stops wins', () => {
    const text = new CompletionText(['world', 'lo']);
    const update = text.push(bytes('hello world'));
    expect(update).toEqual({ text: 'hel', stopped: true });
  });

  test('special tokens add nothing and a dangling byte is released as U+FFFD at the end', () => {
    const text = new CompletionText([]);
    expect(text.push(null).text).toBe('');
    expect(text.push(new Uint8Array([0xe2, 0x82])).text).toBe('');
    expect(text.finish()).toBe('\uFFFD');
  });
});
