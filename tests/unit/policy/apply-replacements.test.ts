/** applyReplacements in one left-to-right pass equals the right-to-left definition on random spans. */
import { applyReplacements, mergeReplacements, type Replacement } from '../../../src/policy/apply-replacements';
import { mulberry32 } from '../../../src/util/mulberry32';

function rightToLeft(text: string, replacements: readonly Replacement[]): string {
  const valid = replacements.filter((r) => Number.isInteger(r.start) && Number.isInteger(r.end) && r.start >= 0 && r.end <= text.length);
  const merged = mergeReplacements(valid);
  let result = text;
  for (let i = merged.length - 1; i >= 0; i--) result = result.slice(0, merged[i].start) + merged[i].text + result.slice(merged[i].end);
  return result;
}

test('equals the right-to-left definition on 2,000 random cases (overlaps, touching, empty and out-of-range spans)', () => {
  const random = mulberry32(17);
  let changed = 0;
  for (let round = 0; round < 2000; round++) {
    const length = Math.floor(random() * 200);
    const text = Array.from({ length }, () => String.fromCharCode(97 + Math.floor(random() * 26))).join('');
    const replacements: Replacement[] = Array.from({ length: Math.floor(random() * 12) }, (_, index) => {
      const start = Math.floor(random() * (length + 4)) - 2;
      const end = start + Math.floor(random() * 20) - 3;
      return { start: random() < 0.05 ? start + 0.5 : start, end, text: random() < 0.2 ? '' : `[R${index}]` };
    });
    const expected = rightToLeft(text, replacements);
    expect(applyReplacements(text, replacements)).toBe(expected);
    if (expected !== text) changed += 1;
  }
  expect(changed).toBeGreaterThan(1000);
});

test('no replacement returns the text itself', () => {
  expect(applyReplacements('abc', [])).toBe('abc');
  expect(applyReplacements('abc', [{ start: 1, end: 1, text: 'x' }])).toBe('abc');
});
