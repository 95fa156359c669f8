/**
 * parsePolicyText: a policy's source text (YAML, or JSON — JSON is YAML) → a plain value plus a
 * function that maps a JSON pointer to its 1-based line, so that validation errors can say where
 * in the file they are. Bounded: at most 1 MiB of text, at most 100 alias expansions (no "billion
 * laughs"), duplicate keys are an error.
 */
import YAML, { isMap, isScalar, isSeq, LineCounter, type Node } from 'yaml';
import type { PolicyValidationError } from './policy-types';

export const MAX_POLICY_BYTES = 1024 * 1024;

export interface ParsedPolicyText {
  value: unknown;
  /** Line of the node at a JSON pointer (the deepest existing ancestor when it does not exist). */
  lineOf(pointer: string): number | undefined;
}

export type ParsePolicyResult = { ok: true; parsed: ParsedPolicyText } | { ok: false; errors: PolicyValidationError[] };

export function pointerSegments(pointer: string): string[] {
  if (pointer === '' || pointer === '/') return [];
  return pointer.slice(1).split('/').map((segment) => segment.replace(/~1/g, '/').replace(/~0/g, '~'));
}

export function parsePolicyText(text: string): ParsePolicyResult {
  if (Buffer.byteLength(text, 'utf8') > MAX_POLICY_BYTES) {
    return { ok: false, errors: [{ pointer: '', message: `policy text is larger than ${MAX_POLICY_BYTES} bytes` }] };
  }
  const lineCounter = new LineCounter();
  const document = YAML.parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false, strict: true });
  if (document.errors.length > 0) {
    return {
      ok: false,
      errors: document.errors.map((error) => ({
        pointer: '',
        line: error.linePos?.[0]?.line ?? lineCounter.linePos(error.pos[0]).line,
        message: `YAML: ${error.message.split('\n')[0]}`,
      })),
    };
  }
  let value: unknown;
  try {
    value = document.toJS({ maxAliasCount: 100 });
  } catch (error) {
    return { ok: false, errors: [{ pointer: '', message: `YAML: ${(error as Error).message}` }] };
  }

  const lineOf = (pointer: string): number | undefined => {
    let node: Node | null | undefined = document.contents as Node | null;
    let line: number | undefined = node?.range ? lineCounter.linePos(node.range[0]).line : undefined;
    for (const segment of pointerSegments(pointer)) {
      if (isMap(node)) {
        const pair = node.items.find((item) => isScalar(item.key) && String(item.key.value) === segment);
        if (!pair) break;
        const key = pair.key as Node;
        if (key.range) line = lineCounter.linePos(key.range[0]).line;
        node = pair.value as Node | null;
      } else if (isSeq(node)) {
        const item = node.items[Number(segment)] as Node | undefined;
        if (!item) break;
        if (item.range) line = lineCounter.linePos(item.range[0]).line;
        node = item;
      } else break;
    }
    return line;
  };
  return { ok: true, parsed: { value, lineOf } };
}
