/**
 * JSON text helpers for the schema compiler: serializing enum/const values in each whitespace layout
 * (compact JSON, or Python's `json.dumps` with `", "` and `": "`), canonical keys for value equality,
 * and the "any string except these names" regex used for additional property keys.
 */
import { encodedSetRegex, JSON_STRING_CHAR, MAX_CODE_POINT, negateRanges } from './schema-regex';

export type WhitespaceMode = 'compact' | 'python' | 'flexible';

/** Serializes a JSON value as the grammar writes it (flexible mode uses the compact form for values). */
export function serializeJsonValue(value: unknown, whitespace: WhitespaceMode): string {
  if (whitespace !== 'python') return JSON.stringify(value);
  return pythonDumps(value);
}

function pythonDumps(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(pythonDumps).join(', ')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.entries(value as Record<string, unknown>).map(([key, item]) => `${JSON.stringify(key)}: ${pythonDumps(item)}`).join(', ')}}`;
  }
  return JSON.stringify(value);
}

/** A canonical text for deep equality as JSON Schema defines it (key order ignored; 1 and 1.0 equal). */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'undefined';
}

export function jsonTypeOf(value: unknown): 'null' | 'boolean' | 'object' | 'array' | 'string' | 'integer' | 'number' {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  if (typeof value === 'boolean') return 'boolean';
  if (typeof value === 'string') return 'string';
  return 'object';
}

interface TrieNode {
  terminal: boolean;
  children: Map<number, TrieNode>;
}

/**
 * A regex for the JSON-encoded body of any string *not* in `names` (decoded comparison): a trie walk
 * where, at each node, the text may end (if no name ends there), continue along a name, or leave the
 * trie with any other character and then run free. Size is linear in the total length of the names.
 */
export function stringNotInRegex(names: readonly string[]): string {
  const root: TrieNode = { terminal: false, children: new Map() };
  for (const name of names) {
    let node = root;
    for (const char of Array.from(name)) {
      const code = char.codePointAt(0)!;
      let child = node.children.get(code);
      if (!child) {
        child = { terminal: false, children: new Map() };
        node.children.set(code, child);
      }
      node = child;
    }
    node.terminal = true;
  }
  const anyRest = `(?:${JSON_STRING_CHAR})*`;
  const emit = (node: TrieNode): string => {
    const options: string[] = [];
    const childCodes = [...node.children.keys()];
    for (const code of childCodes) options.push(`${encodedSetRegex([[code, code]])}${emit(node.children.get(code)!)}`);
    const other = negateRanges(childCodes.map((code) => [code, code] as [number, number]));
    if (other.length > 0 && !(other.length === 1 && other[0][0] > MAX_CODE_POINT)) options.push(`${encodedSetRegex(other)}${anyRest}`);
    if (options.length === 0) return '';
    const joined = options.length === 1 ? options[0] : options.join('|');
    return node.terminal ? `(?:${joined})` : `(?:${joined})?`;
  };
  return emit(root);
}
