/**
 * Merkle tree hashing as RFC 6962 (Certificate Transparency) defines it: leaf = SHA-256(0x00 || data),
 * node = SHA-256(0x01 || left || right), the tree over n leaves splits at the largest power of two
 * below n. The audit log's leaves are the records' chain hashes (32 bytes each).
 *
 * CompactRange keeps the O(log n) roots of the perfect subtrees that cover [0, n) — enough to append
 * a leaf and to compute the root of the tree of size n. Its node list is also the "frontier" stored as
 * the retention anchor, so that the tree stays computable after the leaves before the cut are deleted.
 * Inclusion proofs (RFC 6962 §2.1.1 audit paths) are computed from the frontier plus the leaves after it.
 */
import crypto, { createHash } from 'node:crypto';

export const EMPTY_TREE_ROOT = createHash('sha256').digest('hex');

// crypto.hash (Node >= 20.12) is a one-shot digest about twice as fast as createHash for these 33/65-byte inputs.
const oneShot = (crypto as unknown as { hash?: (algorithm: string, data: Buffer, encoding: 'buffer') => Buffer }).hash;
const sha256 = oneShot ? (data: Buffer) => oneShot('sha256', data, 'buffer') : (data: Buffer) => createHash('sha256').update(data).digest();

export function leafHash(data: Buffer): Buffer {
  const input = Buffer.allocUnsafe(1 + data.length);
  input[0] = 0x00;
  data.copy(input, 1);
  return sha256(input);
}

export function nodeHash(left: Buffer, right: Buffer): Buffer {
  const input = Buffer.allocUnsafe(1 + left.length + right.length);
  input[0] = 0x01;
  left.copy(input, 1);
  right.copy(input, 1 + left.length);
  return sha256(input);
}

/** Largest power of two strictly below n (n >= 2). */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** The sizes of the perfect subtrees covering [0, size), largest first (the set bits of size). */
export function frontierSizes(size: number): number[] {
  const sizes: number[] = [];
  for (let bit = 2 ** Math.floor(Math.log2(Math.max(size, 1))); bit >= 1; bit /= 2) {
    if (Math.floor(size / bit) % 2 === 1) sizes.push(bit);
  }
  return size === 0 ? [] : sizes;
}

// The compact range works on hex strings (its inputs and outputs are hex): crypto.hash with hex output
// is about twice as fast as with Buffer output, and the 33/65-byte inputs go through one reused
// scratch buffer each (crypto.hash reads its input synchronously), so no Buffer is allocated per hash.
const oneShotHex = (crypto as unknown as { hash?: (algorithm: string, data: Buffer, encoding: 'hex') => string }).hash;
const sha256Hex = oneShotHex ? (data: Buffer) => oneShotHex('sha256', data, 'hex') : (data: Buffer) => createHash('sha256').update(data).digest('hex');
const leafInput = Buffer.alloc(33);
const nodeInput = Buffer.alloc(65);
const HEX_HASH = /^[0-9a-f]{64}$/;

/** leafHash of the 32 bytes that `hex` (64 hex digits) spells, as hex; other input as Buffer.from(hex, 'hex') would read it. */
function leafHashOfHex(hex: string): string {
  leafInput[0] = 0x00;
  if (hex.length === 64 && leafInput.write(hex, 1, 'hex') === 32) return sha256Hex(leafInput);
  return leafHash(Buffer.from(hex, 'hex')).toString('hex');
}

/** nodeHash over two hex-encoded hashes, as hex. */
function nodeHashHex(left: string, right: string): string {
  nodeInput[0] = 0x01;
  if (left.length === 64 && right.length === 64 && nodeInput.write(left, 1, 'hex') === 32 && nodeInput.write(right, 33, 'hex') === 32) return sha256Hex(nodeInput);
  return nodeHash(Buffer.from(left, 'hex'), Buffer.from(right, 'hex')).toString('hex');
}

export class CompactRange {
  /** Perfect-subtree sizes and their hashes (lowercase hex), largest first. */
  private readonly sizes: number[] = [];
  private readonly hashes: string[] = [];
  private count = 0;

  /** Rebuilds the range of a tree of `size` leaves from its frontier hashes (largest subtree first). */
  static fromFrontier(size: number, hashes: readonly string[]): CompactRange {
    const sizes = frontierSizes(size);
    if (sizes.length !== hashes.length) throw new Error(`frontier of size ${size} needs ${sizes.length} hashes, got ${hashes.length}`);
    const range = new CompactRange();
    for (let index = 0; index < sizes.length; index++) {
      const hash = hashes[index];
      range.sizes.push(sizes[index]);
      // Stored frontiers are lowercase hex already; anything else is read as Buffer.from(hash, 'hex') reads it.
      range.hashes.push(HEX_HASH.test(hash) ? hash : Buffer.from(hash, 'hex').toString('hex'));
    }
    range.count = size;
    return range;
  }

  get size(): number {
    return this.count;
  }

  /** Appends the leaf whose data is `data` (the record hash). */
  appendData(data: Buffer): void {
    this.appendLeafHash(leafHash(data).toString('hex'));
  }

  /** appendData(Buffer.from(hex, 'hex')) without the Buffer: the leaf whose data is the record hash `hex`. */
  appendHash(hex: string): void {
    this.appendLeafHash(leafHashOfHex(hex));
  }

  private appendLeafHash(leaf: string): void {
    let size = 1;
    let hash = leaf;
    while (this.sizes.length > 0 && this.sizes[this.sizes.length - 1] === size) {
      this.sizes.pop();
      hash = nodeHashHex(this.hashes.pop()!, hash);
      size *= 2;
    }
    this.sizes.push(size);
    this.hashes.push(hash);
    this.count++;
  }

  /** RFC 6962 Merkle tree hash of the leaves appended so far: the right fold of the subtree roots. */
  root(): string {
    const hashes = this.hashes;
    if (hashes.length === 0) return EMPTY_TREE_ROOT;
    let hash = hashes[hashes.length - 1];
    for (let index = hashes.length - 2; index >= 0; index--) hash = nodeHashHex(hashes[index], hash);
    return hash;
  }

  frontier(): string[] {
    return this.hashes.slice();
  }
}

/**
 * Hashes of the subtrees of a tree whose leaves before `cut` are known only through the frontier at
 * `cut`, and whose later leaves are given (leafData[i] is the data of leaf cut + i).
 */
export class PrunedTree {
  private readonly frontierNodes = new Map<string, Buffer>();

  constructor(
    readonly cut: number,
    frontier: readonly string[],
    private readonly leafData: readonly Buffer[],
  ) {
    let start = 0;
    frontierSizes(cut).forEach((size, index) => {
      this.frontierNodes.set(`${start}:${start + size}`, Buffer.from(frontier[index], 'hex'));
      start += size;
    });
  }

  get size(): number {
    return this.cut + this.leafData.length;
  }

  /** MTH(D[start:end]). Every subtree reached from a root of size >= cut is either a frontier node or straddles/follows the cut. */
  subtree(start: number, end: number): Buffer {
    if (start < this.cut) {
      const known = this.frontierNodes.get(`${start}:${end}`);
      if (known) return known;
    }
    if (end <= this.cut) throw new Error(`subtree [${start}, ${end}) lies in the pruned part and is not on the frontier`);
    if (end - start === 1) return leafHash(this.leafData[start - this.cut]);
    const k = splitPoint(end - start);
    return nodeHash(this.subtree(start, start + k), this.subtree(start + k, end));
  }

  root(size: number = this.size): string {
    if (size === 0) return EMPTY_TREE_ROOT;
    if (size === this.cut) return CompactRange.fromFrontier(this.cut, [...this.frontierNodes.values()].map((hash) => hash.toString('hex'))).root();
    return this.subtree(0, size).toString('hex');
  }

  /** RFC 6962 audit path for leaf `index` (0-based) in the tree of `size` leaves; the leaf must follow the cut. */
  inclusionProof(index: number, size: number = this.size): string[] {
    if (index < this.cut || index >= size || size > this.size) throw new Error(`no proof for leaf ${index} in a tree of ${size} (pruned before ${this.cut})`);
    const path: Buffer[] = [];
    let start = 0;
    let end = size;
    // Walk down from the root; collect the sibling of each node on the way, then reverse (leaf first).
    while (end - start > 1) {
      const k = splitPoint(end - start);
      if (index < start + k) {
        path.push(this.subtree(start + k, end));
        end = start + k;
      } else {
        path.push(this.subtree(start, start + k));
        start += k;
      }
    }
    return path.reverse().map((hash) => hash.toString('hex'));
  }
}

/** Verifies an RFC 6962 / RFC 9162 §2.1.3.2 inclusion proof. `data` is the leaf's data (the record hash). */
export function verifyInclusionProof(data: Buffer, index: number, size: number, proof: readonly string[], root: string): boolean {
  if (index < 0 || index >= size) return false;
  let fn = index;
  let sn = size - 1;
  let hash = leafHash(data);
  for (const siblingHex of proof) {
    const sibling = Buffer.from(siblingHex, 'hex');
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      hash = nodeHash(sibling, hash);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      hash = nodeHash(hash, sibling);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && hash.toString('hex') === root;
}
