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

// One pass with string concatenation (V8 builds ropes): no per-level arrays for map/filter/join.
function encode(value: unknown, depth: number): string {
  if (depth > CANONICAL_JSON_MAX_DEPTH) throw new TypeError(`canonicalJson: nesting deeper than ${CANONICAL_JSON_MAX_DEPTH}`);
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError('canonicalJson: non-finite number');
      return JSON.stringify(value);
    case 'object': {
      if (Array.isArray(value)) {
        let text = '[';
        for (let index = 0; index < value.length; index++) {
          if (index > 0) text += ',';
          const item: unknown = value[index];
          text += item === undefined ? 'null' : encode(item, depth + 1);
        }
        return `${text}]`;
      }
      const object = value as Record<string, unknown>;
      const keys = Object.keys(object).sort();
      let text = '{';
      let first = true;
      for (const key of keys) {
        const member = object[key];
        if (member === undefined) continue;
        text += first ? JSON.stringify(key) : `,${JSON.stringify(key)}`;
        text += `:${encode(member, depth + 1)}`;
        first = false;
      }
      return `${text}}`;
    }
    default:
      throw new TypeError(`canonicalJson: cannot encode a ${typeof value}`);
  }
}
