/**
 * SchemaIndex: one walk over a JSON Schema document that records, for every subschema object, its JSON
 * pointer (for error messages) and base URI (for `$ref`), the `$id`s and anchors it declares, and the
 * draft in force — so that `$ref` can be resolved: local pointers (`#/definitions/x`, `#/$defs/x`),
 * anchors (`#foo`, `$anchor`, draft ≤ 7 `$id: "#foo"`), and `$id`-relative references inside the
 * same document. Anything outside the document (remote schemas) is unsupported: nothing is fetched.
 */
import { GatewayError } from '../../errors/gateway-error';

export type Draft = 4 | 6 | 7 | 2019 | 2020;

export interface NodeInfo {
  pointer: string;
  base: string;
}

const DEFAULT_BASE = 'rein://schema/root.json';

/** Keywords whose values are data, not schemas: never walked. */
const DATA_KEYWORDS = new Set(['enum', 'const', 'examples', 'default']);

export function escapePointerToken(token: string): string {
  return token.replace(/~/g, '~0').replace(/\//g, '~1');
}

function draftOf(root: unknown): Draft {
  const uri = root && typeof root === 'object' && !Array.isArray(root) ? (root as Record<string, unknown>).$schema : undefined;
  if (typeof uri !== 'string') return 2020;
  if (uri.includes('draft-04') || uri.includes('draft-03')) return 4;
  if (uri.includes('draft-06')) return 6;
  if (uri.includes('draft-07')) return 7;
  if (uri.includes('2019-09')) return 2019;
  return 2020;
}

function stripFragment(uri: string): string {
  const hash = uri.indexOf('#');
  return hash >= 0 ? uri.slice(0, hash) : uri;
}

function resolveUri(reference: string, base: string): string | null {
  try {
    return new URL(reference, base).href;
  } catch {
    return null;
  }
}

export class SchemaIndex {
  readonly root: unknown;
  readonly draft: Draft;
  readonly nodeCount: number;
  private readonly info = new WeakMap<object, NodeInfo>();
  private readonly documents = new Map<string, unknown>();
  private readonly anchors = new Map<string, unknown>();

  constructor(root: unknown, limits: { maxNodes: number; maxDepth: number }) {
    this.root = root;
    this.draft = draftOf(root);
    let count = 0;
    const walk = (node: unknown, pointer: string, base: string, depth: number): void => {
      if (node === null || typeof node !== 'object') return;
      if (++count > limits.maxNodes) {
        throw new GatewayError('constraint_unsupported', `schema too large (more than ${limits.maxNodes} nodes)`, { details: { keyword: 'limits', pointer } });
      }
      if (depth > limits.maxDepth) {
        throw new GatewayError('constraint_unsupported', `schema nested deeper than ${limits.maxDepth}`, { details: { keyword: 'limits', pointer } });
      }
      if (Array.isArray(node)) {
        node.forEach((item, index) => walk(item, `${pointer}/${index}`, base, depth + 1));
        return;
      }
      const record = node as Record<string, unknown>;
      let nodeBase = base;
      const idKeyword = this.draft === 4 ? 'id' : '$id';
      const id = record[idKeyword];
      if (typeof id === 'string') {
        if (id.startsWith('#') && this.draft <= 7) {
          const anchorUri = resolveUri(id, base);
          if (anchorUri) this.anchors.set(anchorUri, node);
        } else {
          const resolved = resolveUri(id, base);
          if (resolved) {
            const [documentUri, fragment] = [stripFragment(resolved), resolved.includes('#') ? resolved.slice(resolved.indexOf('#') + 1) : ''];
            nodeBase = documentUri;
            if (!this.documents.has(documentUri)) this.documents.set(documentUri, node);
            if (fragment && this.draft <= 7) this.anchors.set(`${documentUri}#${fragment}`, node);
          }
        }
      }
      for (const anchorKeyword of ['$anchor', '$dynamicAnchor']) {
        const anchor = record[anchorKeyword];
        if (typeof anchor === 'string') this.anchors.set(`${stripFragment(nodeBase)}#${anchor}`, node);
      }
      if (!this.info.has(node)) this.info.set(node, { pointer, base: nodeBase });
      for (const [key, value] of Object.entries(record)) {
        if (DATA_KEYWORDS.has(key)) continue;
        walk(value, `${pointer}/${escapePointerToken(key)}`, nodeBase, depth + 1);
      }
    };
    walk(root, '', DEFAULT_BASE, 0);
    this.nodeCount = count;
    if (!this.documents.has(DEFAULT_BASE)) this.documents.set(DEFAULT_BASE, root);
  }

  infoOf(node: object): NodeInfo {
    return this.info.get(node) ?? { pointer: '', base: DEFAULT_BASE };
  }

  /** Records that a synthetic node (a copy made while merging) stands for `original`. */
  adopt(copy: object, original: object): void {
    const info = this.info.get(original);
    if (info && !this.info.has(copy)) this.info.set(copy, info);
  }

  /** Resolves a `$ref` found in `from`; throws constraint_unsupported for anything outside the document. */
  resolveRef(reference: string, from: object): unknown {
    const { base, pointer } = this.infoOf(from);
    const fail = (why: string): GatewayError =>
      new GatewayError('constraint_unsupported', `$ref '${reference}' at ${pointer || '#'}: ${why}`, { details: { keyword: '$ref', pointer: `${pointer}/$ref` } });
    const resolved = resolveUri(reference, base);
    if (!resolved) throw fail('not a valid URI reference');
    const documentUri = stripFragment(resolved);
    const fragment = resolved.includes('#') ? decodeURIComponent(resolved.slice(resolved.indexOf('#') + 1)) : '';
    const document = this.documents.get(documentUri);
    if (document === undefined) throw fail('the referenced schema is outside this document (remote references are not fetched)');
    if (fragment === '') return document;
    if (fragment.startsWith('/')) {
      let current: unknown = document;
      for (const rawToken of fragment.slice(1).split('/')) {
        const token = rawToken.replace(/~1/g, '/').replace(/~0/g, '~');
        if (current === null || typeof current !== 'object') throw fail('pointer does not resolve');
        if (Array.isArray(current)) {
          if (!/^(0|[1-9][0-9]*)$/.test(token)) throw fail('pointer does not resolve');
          current = current[Number(token)];
        } else {
          if (!Object.prototype.hasOwnProperty.call(current, token)) throw fail('pointer does not resolve');
          current = (current as Record<string, unknown>)[token];
        }
      }
      if (current === undefined) throw fail('pointer does not resolve');
      return current;
    }
    const anchored = this.anchors.get(`${documentUri}#${fragment}`);
    if (anchored === undefined) throw fail('anchor not found');
    return anchored;
  }
}
