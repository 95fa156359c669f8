/** The stored frontier column: parsing refuses anything but a list of hashes; the one-entry memory never changes what a read returns or refuses. */
import { createFrontierCache, parseStoredFrontier } from '../../../src/audit/stored-frontier';

const A = 'ab'.repeat(32);
const B = 'cd'.repeat(32);

describe('stored frontier', () => {
  test('parses a list of 64-digit lowercase hex hashes and refuses anything else', () => {
    expect(parseStoredFrontier(`["${A}","${B}"]`)).toEqual([A, B]);
    expect(parseStoredFrontier('[]')).toEqual([]);
    for (const bad of [`["${A.toUpperCase()}"]`, '["abc"]', `"${A}"`, '{}', 'not json', `[${JSON.stringify(A)},1]`, 42, null, undefined]) {
      expect(() => parseStoredFrontier(bad)).toThrow('stored frontier is not a list of hashes');
    }
  });

  test('the memory returns what parsing returns, as a fresh array each time, and still refuses bad text', () => {
    const cache = createFrontierCache();
    const text = JSON.stringify([A, B]);
    cache.remember(text, [A, B]);
    const first = cache.parse(text);
    expect(first).toEqual([A, B]);
    first[0] = B;
    expect(cache.parse(text)).toEqual([A, B]);
    expect(cache.parse(JSON.stringify([B]))).toEqual([B]);
    expect(() => cache.parse('["abc"]')).toThrow('stored frontier is not a list of hashes');
    expect(() => cache.parse(42)).toThrow('stored frontier is not a list of hashes');
  });

  test('a written frontier that parsing would refuse is not remembered', () => {
    const cache = createFrontierCache();
    const text = JSON.stringify(['abc']);
    cache.remember(text, ['abc']);
    expect(() => cache.parse(text)).toThrow('stored frontier is not a list of hashes');
    // The caller's array is copied: changing it later does not change what the memory returns.
    const frontier = [A];
    const good = JSON.stringify(frontier);
    cache.remember(good, frontier);
    frontier[0] = 'zz';
    expect(cache.parse(good)).toEqual([A]);
  });
});
