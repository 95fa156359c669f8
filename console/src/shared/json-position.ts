/**
 * parseJsonText: JSON.parse for text typed in the console, with the error's line and column when the
 * browser's message names a position.
 */
export type JsonParse = { ok: true; value: unknown } | { ok: false; message: string; line?: number; column?: number };

export function lineColumnAt(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, Math.max(0, Math.min(offset, text.length)));
  const lines = before.split('\n');
  return { line: lines.length, column: lines[lines.length - 1].length + 1 };
}

export function parseJsonText(text: string): JsonParse {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (error) {
    const message = (error as Error).message;
    const lineColumn = /line (\d+) column (\d+)/.exec(message);
    if (lineColumn) return { ok: false, message, line: Number(lineColumn[1]), column: Number(lineColumn[2]) };
    const position = /position (\d+)/.exec(message);
    if (position) return { ok: false, message, ...lineColumnAt(text, Number(position[1])) };
    if (/end of (JSON )?input/i.test(message)) return { ok: false, message, ...lineColumnAt(text, text.length) };
    return { ok: false, message };
  }
}
