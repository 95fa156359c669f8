/**
 * The head's and anchor's frontier column: the JSON text of the compact-range hashes (see
 * merkle-tree.ts), read back by both drivers. Reading checks that it is a list of 64-digit lowercase
 * hex hashes; anything else is refused ('stored frontier is not a list of hashes').
 */
import { parseJson } from '../util/parse-json';

const HASH = /^[0-9a-f]{64}$/;

function isHashList(value: readonly unknown[]): boolean {
  for (const item of value) if (typeof item !== 'string' || !HASH.test(item)) return false;
  return true;
}

export function parseStoredFrontier(value: unknown): string[] {
  const parsed = typeof value === 'string' ? parseJson<unknown>(value) : { ok: false as const, error: 'not text' };
  if (!parsed.ok || !Array.isArray(parsed.value) || !isHashList(parsed.value)) {
    throw new Error('stored frontier is not a list of hashes');
  }
  return parsed.value as string[];
}

export interface FrontierCache {
  /** parseStoredFrontier(value), a fresh array each call. */
  parse(value: unknown): string[];
  /** The text a driver is writing (JSON.stringify(frontier)) and the frontier it encodes. */
  remember(text: string, frontier: readonly string[]): void;
}

/**
 * parseStoredFrontier with a one-entry memory: the head's frontier read at the start of an append
 * is, in the common case, the very text this process wrote (or read) last, so it is neither parsed
 * nor checked again. Text that differs in any byte is parsed. A written frontier is remembered only
 * when parseStoredFrontier would accept its text, so a read never succeeds where it would have thrown;
 * the memory maps text to its parse, so a write that rolls back leaves nothing wrong behind.
 */
export function createFrontierCache(): FrontierCache {
  let lastText: string | null = null;
  let lastFrontier: readonly string[] = [];
  return {
    parse(value) {
      if (value !== lastText) {
        lastFrontier = parseStoredFrontier(value);
        lastText = value as string;
      }
      return lastFrontier.slice();
    },
    remember(text, frontier) {
      if (!isHashList(frontier)) return;
      lastText = text;
      lastFrontier = frontier.slice();
    },
  };
}
