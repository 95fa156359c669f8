/**
 * lineDiff: a line-level diff (longest common subsequence) between the loaded revision of a policy and
 * the edited text. Bounded: past MAX_CELLS it falls back to "everything changed" rather than stall.
 */
export type DiffLine = { type: 'same' | 'added' | 'removed'; text: string; oldLine?: number; newLine?: number };

const MAX_CELLS = 4_000_000;

export function lineDiff(before: string, after: string): DiffLine[] {
  const a = before.split('\n');
  const b = after.split('\n');
  // Trim the common head and tail first: edits are usually local.
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  const middleA = a.slice(head, a.length - tail);
  const middleB = b.slice(head, b.length - tail);
  const result: DiffLine[] = [];
  for (let index = 0; index < head; index++) result.push({ type: 'same', text: a[index], oldLine: index + 1, newLine: index + 1 });
  const n = middleA.length;
  const m = middleB.length;
  if ((n + 1) * (m + 1) > MAX_CELLS) {
    middleA.forEach((text, index) => result.push({ type: 'removed', text, oldLine: head + index + 1 }));
    middleB.forEach((text, index) => result.push({ type: 'added', text, newLine: head + index + 1 }));
  } else {
    const table = new Uint32Array((n + 1) * (m + 1));
    for (let i = n - 1; i >= 0; i--) {
      for (let j = m - 1; j >= 0; j--) {
        table[i * (m + 1) + j] = middleA[i] === middleB[j] ? table[(i + 1) * (m + 1) + j + 1] + 1 : Math.max(table[(i + 1) * (m + 1) + j], table[i * (m + 1) + j + 1]);
      }
    }
    let i = 0;
    let j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && middleA[i] === middleB[j]) {
        result.push({ type: 'same', text: middleA[i], oldLine: head + i + 1, newLine: head + j + 1 });
        i++;
        j++;
      } else if (i < n && (j >= m || table[(i + 1) * (m + 1) + j] >= table[i * (m + 1) + j + 1])) {
        result.push({ type: 'removed', text: middleA[i], oldLine: head + i + 1 });
        i++;
      } else {
        result.push({ type: 'added', text: middleB[j], newLine: head + j + 1 });
        j++;
      }
    }
  }
  for (let index = 0; index < tail; index++) {
    const oldIndex = a.length - tail + index;
    const newIndex = b.length - tail + index;
    result.push({ type: 'same', text: a[oldIndex], oldLine: oldIndex + 1, newLine: newIndex + 1 });
  }
  return result;
}

export type FoldedDiffLine = DiffLine | { type: 'fold'; count: number };

/** Keeps `context` unchanged lines around each change and folds longer unchanged runs into one entry. */
export function foldUnchanged(lines: DiffLine[], context: number): FoldedDiffLine[] {
  const near = new Array<boolean>(lines.length).fill(false);
  lines.forEach((line, index) => {
    if (line.type === 'same') return;
    for (let at = Math.max(0, index - context); at <= Math.min(lines.length - 1, index + context); at++) near[at] = true;
  });
  const result: FoldedDiffLine[] = [];
  for (let index = 0; index < lines.length; ) {
    if (near[index]) {
      result.push(lines[index]);
      index++;
      continue;
    }
    let end = index;
    while (end < lines.length && !near[end]) end++;
    result.push({ type: 'fold', count: end - index });
    index = end;
  }
  return result;
}
