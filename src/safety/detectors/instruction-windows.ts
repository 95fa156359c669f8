/**
 * Candidate instruction windows in an untrusted document (tool result, retrieved context) — the TypeScript twin of
 * tools/train-injection-classifier/segments.py. Indirect injections are task instructions pasted into data, often
 * mid-word and without punctuation ("…initial cha What is the capital of Brazil? rge…"). The document is cut at line
 * breaks, table bars and sentence ends; each piece again before a Capitalised word that follows a lower-case letter;
 * every run of 1..4 consecutive sub-segments within a piece is a window. Bounded: at most MAX_WINDOWS windows.
 */

export const MAX_WINDOWS = 600;
const MAX_RUN = 4;

export interface InstructionWindow {
  text: string;
  /** Offset of the window's first sub-segment in the document (approximate for whitespace-trimmed pieces). */
  start: number;
  end: number;
}

interface Part {
  text: string;
  start: number;
  end: number;
}

function splitWithOffsets(text: string, base: number, separator: RegExp): Part[] {
  const parts: Part[] = [];
  let last = 0;
  separator.lastIndex = 0;
  for (let match = separator.exec(text); match !== null; match = separator.exec(text)) {
    if (match[0].length === 0) {
      separator.lastIndex++;
      continue;
    }
    parts.push({ text: text.slice(last, match.index), start: base + last, end: base + match.index });
    last = match.index + match[0].length;
  }
  parts.push({ text: text.slice(last), start: base + last, end: base + text.length });
  return parts
    .map((part) => {
      const leading = part.text.length - part.text.trimStart().length;
      const trimmed = part.text.trim();
      return { text: trimmed, start: part.start + leading, end: part.start + leading + trimmed.length };
    })
    .filter((part) => part.text.length > 0);
}

export function instructionWindows(document: string, maxWindows = MAX_WINDOWS): InstructionWindow[] {
  const windows: InstructionWindow[] = [];
  for (const piece of splitWithOffsets(document, 0, /[\n|]+|(?<=[.!?])\s+/g)) {
    const parts = splitWithOffsets(piece.text, piece.start, /(?<=[a-z,;:]) +(?=[A-Z][a-z])/g);
    for (let start = 0; start < parts.length; start++) {
      for (let length = 1; length <= MAX_RUN && start + length <= parts.length; length++) {
        const run = parts.slice(start, start + length);
        windows.push({ text: run.map((part) => part.text).join(' '), start: run[0].start, end: run[run.length - 1].end });
        if (windows.length >= maxWindows) return windows;
      }
    }
  }
  return windows;
}
