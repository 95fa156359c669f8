/**
 * The policy editor's line diff (console/src/shared/line-diff.ts): a minimal edit script that
 * reproduces both texts, removals before additions, folding of long unchanged runs, and the bounded
 * fallback for huge inputs. Pure functions: no browser needed.
 */
import { foldUnchanged, lineDiff, type DiffLine } from '../../console/src/shared/line-diff';

function sides(diff: DiffLine[]): { before: string; after: string } {
  return {
    before: diff.filter((line) => line.type !== 'added').map((line) => line.text).join('\n'),
    after: diff.filter((line) => line.type !== 'removed').map((line) => line.text).join('\n'),
  };
}

describe('lineDiff', () => {
  test('identical texts are all unchanged, numbered on both sides', () => {
    const diff = lineDiff('a\nb\nc', 'a\nb\nc');
    expect(diff.map((line) => line.type)).toEqual(['same', 'same', 'same']);
    expect(diff[2]).toEqual({ type: 'same', text: 'c', oldLine: 3, newLine: 3 });
  });

  test('a changed line is one removal then one addition, with line numbers', () => {
    const diff = lineDiff('name: x\nrefusal: old\naudit: full', 'name: x\nrefusal: new\naudit: full');
    expect(diff.filter((line) => line.type !== 'same')).toEqual([
      { type: 'removed', text: 'refusal: old', oldLine: 2 },
      { type: 'added', text: 'refusal: new', newLine: 2 },
    ]);
  });

  test('edits in the middle are minimal and reproduce both texts', () => {
    const before = ['a', 'b', 'c', 'd', 'e', 'f', 'g'].join('\n');
    const after = ['a', 'x', 'c', 'd', 'y', 'e', 'g', 'h'].join('\n');
    const diff = lineDiff(before, after);
    expect(sides(diff)).toEqual({ before, after });
    // LCS a c d e g = 5 lines kept: 2 removed (b, f), 3 added (x, y, h).
    expect(diff.filter((line) => line.type === 'same')).toHaveLength(5);
    expect(diff.filter((line) => line.type === 'removed').map((line) => line.text)).toEqual(['b', 'f']);
    expect(diff.filter((line) => line.type === 'added').map((line) => line.text)).toEqual(['x', 'y', 'h']);
  });

  test('past the size bound the middle is reported as replaced instead of computed', () => {
    const before = Array.from({ length: 3000 }, (_, index) => `old ${index}`).join('\n');
    const after = Array.from({ length: 3000 }, (_, index) => `new ${index}`).join('\n');
    const diff = lineDiff(`head\n${before}\ntail`, `head\n${after}\ntail`);
    expect(diff[0]).toMatchObject({ type: 'same', text: 'head' });
    expect(diff[diff.length - 1]).toMatchObject({ type: 'same', text: 'tail' });
    expect(diff.filter((line) => line.type === 'removed')).toHaveLength(3000);
    expect(diff.filter((line) => line.type === 'added')).toHaveLength(3000);
  });
});

describe('foldUnchanged', () => {
  test('keeps context around changes and folds the rest', () => {
    const before = Array.from({ length: 20 }, (_, index) => `line ${index + 1}`);
    const after = [...before];
    after[9] = 'changed';
    const folded = foldUnchanged(lineDiff(before.join('\n'), after.join('\n')), 2);
    expect(folded.map((line) => (line.type === 'fold' ? `fold ${line.count}` : line.type))).toEqual([
      'fold 7',
      'same',
      'same',
      'removed',
      'added',
      'same',
      'same',
      'fold 8',
    ]);
  });
});
