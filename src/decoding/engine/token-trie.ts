/**
 * TokenTrie: the vocabulary's byte strings as a trie in flat typed arrays, nodes numbered in DFS
 * preorder so that every subtree is a contiguous node range and the tokens ending in it a contiguous
 * slice of `tokenIds` — marking a whole subtree allowed or rejected is a range operation. Built from
 * the sorted byte strings in one pass (no per-node objects: 128k vocabularies have ~400k nodes).
 * Tokens without bytes (special tokens) and empty tokens are not in the trie.
 */
import type { Vocabulary } from '../vocabulary';

export class TokenTrie {
  readonly nodeCount: number;
  /** Children of node n: edges [edgeStart[n], edgeStart[n + 1]), in increasing byte (and node) order. */
  readonly edgeStart: Int32Array;
  readonly edgeByte: Uint8Array;
  readonly edgeChild: Int32Array;
  /** Node n's subtree is nodes [n, subtreeEnd[n]). */
  readonly subtreeEnd: Int32Array;
  /** Tokens ending at node n: tokenIds[tokenStart[n] .. tokenStart[n + 1]). */
  readonly tokenStart: Int32Array;
  readonly tokenIds: Int32Array;
  readonly depth: Uint16Array;
  readonly vocabularySize: number;
  /** Longest token, in bytes. */
  readonly maxDepth: number;
  /** Bytes on the edges below node n (8 words per node): a subtree needs no walk from a state that loops on all of them. */
  readonly subtreeBytes: Uint32Array;

  constructor(vocabulary: Vocabulary) {
    this.vocabularySize = vocabulary.size;
    const entries: Array<{ id: number; bytes: Uint8Array }> = [];
    for (let id = 0; id < vocabulary.size; id++) {
      const bytes = vocabulary.tokenBytes(id);
      if (bytes && bytes.length > 0) entries.push({ id, bytes });
    }
    entries.sort((a, b) => {
      const length = Math.min(a.bytes.length, b.bytes.length);
      for (let i = 0; i < length; i++) if (a.bytes[i] !== b.bytes[i]) return a.bytes[i] - b.bytes[i];
      return a.bytes.length - b.bytes.length || a.id - b.id;
    });

    const parent: number[] = [-1];
    const byteOf: number[] = [0];
    const depthOf: number[] = [0];
    const tokenNode: number[] = [];
    const subtreeEnd: number[] = [0];
    const path: number[] = [0]; // path[d] = node at depth d
    let previous: Uint8Array = new Uint8Array(0);
    for (const entry of entries) {
      const bytes = entry.bytes;
      let common = 0;
      while (common < bytes.length && common < previous.length && bytes[common] === previous[common]) common++;
      // Close the nodes deeper than the common prefix.
      while (path.length - 1 > common) subtreeEnd[path.pop()!] = parent.length;
      for (let d = common; d < bytes.length; d++) {
        const node = parent.length;
        parent.push(path[path.length - 1]);
        byteOf.push(bytes[d]);
        depthOf.push(d + 1);
        subtreeEnd.push(0);
        path.push(node);
      }
      tokenNode.push(path[path.length - 1]);
      previous = bytes;
    }
    while (path.length > 0) subtreeEnd[path.pop()!] = parent.length;

    const nodeCount = parent.length;
    this.nodeCount = nodeCount;
    this.subtreeEnd = Int32Array.from(subtreeEnd);
    this.depth = Uint16Array.from(depthOf.map((d) => Math.min(d, 65535)));
    this.maxDepth = depthOf.reduce((max, d) => Math.max(max, d), 0);
    const childCount = new Int32Array(nodeCount + 1);
    for (let node = 1; node < nodeCount; node++) childCount[parent[node]]++;
    this.edgeStart = new Int32Array(nodeCount + 1);
    for (let node = 0; node < nodeCount; node++) this.edgeStart[node + 1] = this.edgeStart[node] + childCount[node];
    this.edgeByte = new Uint8Array(nodeCount);
    this.edgeChild = new Int32Array(nodeCount);
    const fill = this.edgeStart.slice(0, nodeCount);
    for (let node = 1; node < nodeCount; node++) {
      const slot = fill[parent[node]]++;
      this.edgeByte[slot] = byteOf[node];
      this.edgeChild[slot] = node;
    }
    this.subtreeBytes = new Uint32Array(nodeCount * 8);
    for (let node = nodeCount - 1; node >= 0; node--) {
      for (let e = this.edgeStart[node]; e < this.edgeStart[node + 1]; e++) {
        const child = this.edgeChild[e];
        const byte = this.edgeByte[e];
        this.subtreeBytes[node * 8 + (byte >>> 5)] |= 1 << (byte & 31);
        for (let w = 0; w < 8; w++) this.subtreeBytes[node * 8 + w] |= this.subtreeBytes[child * 8 + w];
      }
    }
    // Tokens grouped by node, in node order (entries are already in preorder).
    this.tokenStart = new Int32Array(nodeCount + 1);
    const perNode = new Int32Array(nodeCount + 1);
    for (const node of tokenNode) perNode[node]++;
    for (let node = 0; node < nodeCount; node++) this.tokenStart[node + 1] = this.tokenStart[node] + perNode[node];
    this.tokenIds = new Int32Array(tokenNode.length);
    const cursor = this.tokenStart.slice(0, nodeCount);
    entries.forEach((entry, index) => (this.tokenIds[cursor[tokenNode[index]]++] = entry.id));
  }
}

const trieCache = new WeakMap<Vocabulary, TokenTrie>();

/** One trie per vocabulary object. */
export function tokenTrieFor(vocabulary: Vocabulary): TokenTrie {
  let trie = trieCache.get(vocabulary);
  if (!trie) {
    trie = new TokenTrie(vocabulary);
    trieCache.set(vocabulary, trie);
  }
  return trie;
}
