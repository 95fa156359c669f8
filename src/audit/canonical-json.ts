/**
 * canonicalJson: the one byte-exact JSON encoding that audit hashes are computed over.
 * Object keys are sorted by UTF-16 code units (as RFC 8785 does), no whitespace, numbers and strings
 * as ECMAScript's JSON.stringify writes them, `undefined` members dropped. Records are stored in this
 * form, so the stored text and the hashed bytes are the same thing — a database that re-orders keys
 * (PostgreSQL jsonb) cannot silently break verification because we store text, never jsonb.
 */

/** Deeper structures than this are refused (audit events are shallow; this only bounds recursion). */
export const CANONICAL_JSON_MAX_DEPTH = 64;

export function canonicalJson(value: unknown): string {
  return encode(value, 0);
}

/**
 * What JSON.stringify would escape in a string: control characters, `"`, `\`, and surrogates (it
 * escapes lone ones only; any surrogate takes the JSON.stringify path, which decides). A string
 * without any of these is written by JSON.stringify as itself between quotes.
 */
const NEEDS_ESCAPE = /[\u0000-\u001f"\\\ud800-\udfff]/;

function quote(text: string): string {
  return NEEDS_ESCAPE.test(text) ? JSON.stringify(text) : `"${text}"`;
}

/**
 * Quoted object keys: audit events use a small, fixed set of keys, so each is quoted once. Bounded
 * (cleared when full) so that arbitrary keys in finding details cannot grow it without limit.
 */
const quotedKeys = new Map<string, string>();
const QUOTED_KEYS_MAX = 4096;

function quoteKey(key: string): string {
  let quoted = quotedKeys.get(key);
  if (quoted === undefined) {
    quoted = quote(key);
    if (quotedKeys.size >= QUOTED_KEYS_MAX) quotedKeys.clear();
    quotedKeys.set(key, quoted);
  }
  return quoted;
}

/** Object.keys in UTF-16 code-unit order; most objects are built in that order already, so check before sorting. */
function sortedKeys(object: object): string[] {
  const keys = Object.keys(object);
  for (let index = 1; index < keys.length; index++) {
    if (keys[index - 1] > keys[index]) return keys.sort();
  }
  return keys;
}

// One pass with string concatenation (V8 builds ropes): no per-level arrays for map/filter/join.
function encode(value: unknown, depth: number): string {
  if (depth > CANONICAL_JSON_MAX_DEPTH) throw new TypeError(`canonicalJson: nesting deeper than ${CANONICAL_JSON_MAX_DEPTH}`);
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return quote(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError('canonicalJson: non-finite number');
      // For a finite number JSON.stringify writes Number::toString (-0 as "0"), as String() does.
      return String(value);
    case 'object': {
      if (Array.isArray(value)) {
        if (value.length === 0) return '[]';
        let text = '[';
        for (let index = 0; index < value.length; index++) {
          if (index > 0) text += ',';
          const item: unknown = value[index];
          text += item === undefined ? 'null' : encode(item, depth + 1);
        }
        return `${text}]`;
      }
      const object = value as Record<string, unknown>;
      const keys = sortedKeys(object);
      let text = '{';
      for (let index = 0; index < keys.length; index++) {
        const key = keys[index];
        const member = object[key];
        if (member === undefined) continue;
        if (text.length > 1) text += ',';
        text += `${quoteKey(key)}:${encode(member, depth + 1)}`;
      }
      return `${text}}`;
    }
    default:
      throw new TypeError(`canonicalJson: cannot encode a ${typeof value}`);
  }
}
