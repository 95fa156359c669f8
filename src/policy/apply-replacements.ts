/**
 * applyReplacements: puts span replacements from several checks into one text. Overlapping or
 * touching-inside spans are merged into one span, replaced by the replacement of the widest span
 * that went into it (an email inside a redacted secret assignment disappears with it); all offsets
 * refer to the original text.
 */
export interface Replacement {
  start: number;
  end: number;
  text: string;
}

export function mergeReplacements(replacements: readonly Replacement[]): Replacement[] {
  const sorted = [...replacements]
    .filter((replacement) => replacement.end > replacement.start)
    .sort((a, b) => a.start - b.start || b.end - a.end);
  const merged: Array<Replacement & { width: number }> = [];
  for (const replacement of sorted) {
    const last = merged[merged.length - 1];
    const width = replacement.end - replacement.start;
    if (last && replacement.start < last.end) {
      if (width > last.width) {
        last.text = replacement.text;
        last.width = width;
      }
      last.end = Math.max(last.end, replacement.end);
    } else merged.push({ ...replacement, width });
  }
  return merged.map(({ start, end, text }) => ({ start, end, text }));
}

export function applyReplacements(text: string, replacements: readonly Replacement[]): string {
  // Offsets come from checks written by others: ignore any that do not fit the text rather than garble it.
  const valid = replacements.filter((replacement) =>
    Number.isInteger(replacement.start) && Number.isInteger(replacement.end) && replacement.start >= 0 && replacement.end <= text.length);
  const merged = mergeReplacements(valid);
  if (merged.length === 0) return text;
  // The merged spans are sorted and disjoint: one pass, left to right (the same text as applying them
  // right to left, without copying the rest of the text once per span).
  const parts: string[] = [];
  let cursor = 0;
  for (const { start, end, text: replacement } of merged) {
    parts.push(text.slice(cursor, start), replacement);
    cursor = end;
  }
  parts.push(text.slice(cursor));
  return parts.join('');
}
