/**
 * RFC 6962 Merkle hashing: roots, compact ranges, inclusion proofs (also across a retention cut),
 * checked against a direct transcription of RFC 6962 §2.1 and the known empty-tree root.
 */
import { createHash } from 'node:crypto';
import { CompactRange, EMPTY_TREE_ROOT, leafHash, nodeHash, PrunedTree, splitPoint, verifyInclusionProof, frontierSizes } from '../../../src/audit/merkle-tree';

function data(index: number): Buffer {
  return createHash('sha256').update(`leaf ${index}`).digest();
}

/** MTH(D[n]) exactly as RFC 6962 §2.1 writes it. */
function referenceRoot(leaves: Buffer[]): Buffer {
  if (leaves.length === 1) return leafHash(leaves[0]);
  const k = splitPoint(leaves.length);
  return nodeHash(referenceRoot(leaves.slice(0, k)), referenceRoot(leaves.slice(k)));
}

/** PATH(m, D[n]) exactly as RFC 6962 §2.1.1 writes it (leaf to root). */
function referencePath(m: number, leaves: Buffer[]): Buffer[] {
  if (leaves.length === 1) return [];
  const k = splitPoint(leaves.length);
  if (m < k) return [...referencePath(m, leaves.slice(0, k)), referenceRoot(leaves.slice(k))];
  return [...referencePath(m - k, leaves.slice(k)), referenceRoot(leaves.slice(0, k))];
}

describe('RFC 6962 hashing', () => {
  test('empty tree root is SHA-256 of the empty string; leaf and node use 0x00 / 0x01 prefixes', () => {
    expect(EMPTY_TREE_ROOT).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(new CompactRange().root()).toBe(EMPTY_TREE_ROOT);
    expect(leafHash(Buffer.from('')).toString('hex')).toBe(createHash('sha256').update(Buffer.from([0])).digest('hex'));
    const left = data(1);
    const right = data(2);
    expect(nodeHash(left, right).toString('hex')).toBe(createHash('sha256').update(Buffer.concat([Buffer.from([1]), left, right])).digest('hex'));
  });

  test('compact range root equals MTH for every size up to 70, and survives a frontier round trip', () => {
    const leaves = Array.from({ length: 70 }, (_, index) => data(index));
    const range = new CompactRange();
    leaves.forEach((leaf, index) => {
      range.appendData(leaf);
      const expected = referenceRoot(leaves.slice(0, index + 1)).toString('hex');
      expect(range.root()).toBe(expected);
      expect(CompactRange.fromFrontier(index + 1, range.frontier()).root()).toBe(expected);
      expect(range.frontier()).toHaveLength(frontierSizes(index + 1).length);
    });
  });

  test('inclusion proofs equal RFC 6962 PATH and verify; wrong index, leaf or root fail', () => {
    for (const size of [1, 2, 3, 5, 8, 13, 33]) {
      const leaves = Array.from({ length: size }, (_, index) => data(index));
      const tree = new PrunedTree(0, [], leaves);
      const root = tree.root();
      expect(root).toBe(referenceRoot(leaves).toString('hex'));
      for (let index = 0; index < size; index++) {
        const proof = tree.inclusionProof(index);
        expect(proof).toEqual(referencePath(index, leaves).map((hash) => hash.toString('hex')));
        expect(verifyInclusionProof(leaves[index], index, size, proof, root)).toBe(true);
        expect(verifyInclusionProof(data(999), index, size, proof, root)).toBe(false);
        if (size > 1) expect(verifyInclusionProof(leaves[index], (index + 1) % size, size, proof, root)).toBe(false);
        // (The tree size is bound by the checkpoint HMAC, not by the path alone: some paths fit two sizes.)
        expect(verifyInclusionProof(leaves[index], index, index, proof, root)).toBe(false);
        expect(verifyInclusionProof(leaves[index], index, size, proof, EMPTY_TREE_ROOT)).toBe(false);
      }
    }
  });

  test('after a cut, roots and proofs from the frontier equal those over all leaves', () => {
    const leaves = Array.from({ length: 41 }, (_, index) => data(index));
    for (const cut of [1, 4, 5, 16, 23, 40, 41]) {
      const range = new CompactRange();
      leaves.slice(0, cut).forEach((leaf) => range.appendData(leaf));
      const pruned = new PrunedTree(cut, range.frontier(), leaves.slice(cut));
      const full = new PrunedTree(0, [], leaves);
      for (const size of [cut, 41]) expect(pruned.root(size)).toBe(full.root(size));
      for (let index = cut; index < 41; index++) expect(pruned.inclusionProof(index)).toEqual(full.inclusionProof(index));
      if (cut > 0) expect(() => pruned.inclusionProof(cut - 1)).toThrow(/pruned/);
    }
  });

  test('appendHash(hex) equals appendData(Buffer.from(hex, "hex")), also for hex that is not 64 lowercase digits', () => {
    const hexes = [
      ...Array.from({ length: 40 }, (_, index) => data(index).toString('hex')),
      data(40).toString('hex').toUpperCase(),
      'abc',
      `${data(41).toString('hex').slice(0, 62)}zz`,
      '',
      data(42).toString('hex') + 'ff',
    ];
    const byHex = new CompactRange();
    const byData = new CompactRange();
    for (const hex of hexes) {
      byHex.appendHash(hex);
      byData.appendData(Buffer.from(hex, 'hex'));
      expect(byHex.root()).toBe(byData.root());
      expect(byHex.frontier()).toEqual(byData.frontier());
    }
  });

  test('fromFrontier reads hashes as Buffer.from(hash, "hex") does: upper case is the same hash, the frontier comes back in lower case', () => {
    const range = new CompactRange();
    for (let index = 0; index < 13; index++) range.appendData(data(index));
    const upper = CompactRange.fromFrontier(13, range.frontier().map((hash) => hash.toUpperCase()));
    expect(upper.root()).toBe(range.root());
    expect(upper.frontier()).toEqual(range.frontier());
    // A frontier returned is a copy: changing it does not change the range.
    const frontier = range.frontier();
    frontier[0] = '00'.repeat(32);
    expect(range.frontier()[0]).not.toBe(frontier[0]);
  });
});

