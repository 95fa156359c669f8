/**
 * parseJson: the one way to parse untrusted JSON text. Returns a result instead of throwing,
 * so that a bad body can never escape as an unhandled exception.
 */
export type ParseResult<T = unknown> = { ok: true; value: T } | { ok: false; error: string };

export function parseJson<T = unknown>(text: string): ParseResult<T> {
  try {
    return { ok: true, value: JSON.parse(text) as T };
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message : String(error) };
  }
}
