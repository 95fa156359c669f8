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
  // Plain data whose objects all have their keys in sorted order already (audit events are built so)
  // is written by JSON.stringify exactly as encode() would write it, only faster, and flat.
  // (A bare `undefined` is refused by encode(); JSON.stringify would return undefined.)
  if (value === undefined || Object.prototype.hasOwnProperty('toJSON') || Array.prototype.hasOwnProperty('toJSON') || !isSortedPlainData(value, 0)) return encode(value, 0);
  return JSON.stringify(value);
}

/** The general encoder on its own (the reference the JSON.stringify path is tested against). */
export function canonicalJsonGeneral(value: unknown): string {
  return encode(value, 0);
}

/**
 * True when JSON.stringify(value) is the canonical encoding: only strings, booleans, null, undefined
 * members, finite numbers, arrays and objects whose prototype is Array.prototype / Object.prototype /
 * null (no toJSON, no boxed primitives, dates or class instances), every object's keys in strictly
 * increasing UTF-16 order, no deeper than CANONICAL_JSON_MAX_DEPTH. JSON.stringify then writes the
 * same members in the same order with the same string and number forms (a finite number as
 * Number::toString, -0 as 0; `undefined` members dropped, `undefined` array items and holes as null).
 * Anything else takes the general encoder, which sorts, or refuses what it cannot encode.
 * (It assumes data properties: a getter that returns another value on a second read is not plain data.)
 */
function isSortedPlainData(value: unknown, depth: number): boolean {
  if (depth > CANONICAL_JSON_MAX_DEPTH) return false;
  switch (typeof value) {
    case 'string':
    case 'boolean':
    case 'undefined':
      return true;
    case 'number':
      return Number.isFinite(value);
    case 'object': {
      if (value === null) return true;
      const prototype: unknown = Object.getPrototypeOf(value);
      if (Array.isArray(value)) {
        if (prototype !== Array.prototype) return false;
        for (let index = 0; index < value.length; index++) if (!isSortedPlainData(value[index], depth + 1)) return false;
        return true;
      }
      if (prototype !== Object.prototype && prototype !== null) return false;
      const object = value as Record<string, unknown>;
      const keys = Object.keys(object);
      for (let index = 0; index < keys.length; index++) {
        if (index > 0 && !(keys[index - 1] < keys[index])) return false;
        if (!isSortedPlainData(object[keys[index]], depth + 1)) return false;
      }
      return true;
    }
    default:
      return false;
  }
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
