/**
 * KvBatch.rebuild: rows kept from the batch are compacted in place when they can be (no allocation),
 * and the result is exactly what a rebuild into fresh tensors gives — cache data, masks, shapes.
 */
import { KvBatch, type KvRowSource } from '../../../src/backends/onnx/kv-batch';
import type { CacheTensor } from '../../../src/backends/onnx/onnx-model';
import { createSeededRandom } from '../../../src/backends/onnx/seeded-random';

const PAST = 2;
const HEADS = 2;
const DIM = 3;

function randomPast(rows: number, columns: number, seed: number): CacheTensor[] {
  const random = createSeededRandom(seed);
  return Array.from({ length: PAST }, () => ({
    data: Float32Array.from({ length: rows * HEADS * columns * DIM }, () => random() * 2 - 1),
    dims: [rows, HEADS, columns, DIM],
  }));
}

/** A batch of `rows` rows over `columns` columns; row r masks its first `leading[r]` columns. */
function makeBatch(rows: number, columns: number, leading: number[], seed: number): KvBatch {
  const batch = new KvBatch(PAST, HEADS, DIM);
  const past = randomPast(rows, columns, seed);
  batch.rebuild(
    Array.from({ length: rows }, (_, row) => {
      const mask = new Uint8Array(columns).fill(1);
      mask.fill(0, 0, leading[row]);
      return { past, row, columns, mask };
    }),
  );
  return batch;
}

/** The same sources, read from copies of their tensors (so the reference rebuild cannot reuse anything). */
function detached(sources: KvRowSource[]): KvRowSource[] {
  const copies = new Map<CacheTensor[], CacheTensor[]>();
  return sources.map((source) => {
    if (source.past === null) return { ...source };
    let copy = copies.get(source.past);
    if (!copy) {
      copy = source.past.map((tensor) => ({ data: Float32Array.from(tensor.data), dims: [...tensor.dims] }));
      copies.set(source.past, copy);
    }
    return { ...source, past: copy, mask: Uint8Array.from(source.mask) };
  });
}

function snapshot(batch: KvBatch): { dims: number[][]; data: number[][]; masks: number[][] } {
  return {
    dims: batch.past!.map((tensor) => tensor.dims),
    data: batch.past!.map((tensor) => Array.from(tensor.data)),
    masks: batch.masks.map((mask) => Array.from(mask.subarray(0, batch.columns))),
  };
}

describe('KvBatch.rebuild', () => {
  test('rows leaving and a joiner arriving: compacted in place, equal to a fresh rebuild', () => {
    // Row 0 (the oldest) leaves, so two leading columns become trimmable for everyone left.
    const batch = makeBatch(5, 8, [0, 2, 3, 2, 5], 1);
    const buffers = batch.past!.map((tensor) => tensor.data.buffer);
    const joiner = randomPast(1, 4, 2);
    const sources: KvRowSource[] = [batch.source(1), batch.source(3), batch.source(4), { past: joiner, row: 0, columns: 4, mask: Uint8Array.from([0, 1, 1, 1]) }];
    const reference = new KvBatch(PAST, HEADS, DIM);
    reference.rebuild(detached(sources));
    batch.rebuild(sources);
    expect(batch.past!.map((tensor) => tensor.data.buffer)).toEqual(buffers);
    expect(batch.columns).toBe(6);
    expect(snapshot(batch)).toEqual(snapshot(reference));

    // Again, growing back into the spare room of the same buffers (the current views are shorter).
    const second = randomPast(1, 3, 6);
    const again: KvRowSource[] = [0, 1, 2, 3].map((row) => batch.source(row));
    again.push({ past: second, row: 0, columns: 3, mask: new Uint8Array(3).fill(1) });
    const reference2 = new KvBatch(PAST, HEADS, DIM);
    reference2.rebuild(detached(again));
    batch.rebuild(again);
    expect(batch.past!.map((tensor) => tensor.data.buffer)).toEqual(buffers);
    expect(batch.rows).toBe(5);
    expect(snapshot(batch)).toEqual(snapshot(reference2));
  });

  test('a joiner wider than the batch: new tensors, still equal to a fresh rebuild', () => {
    const batch = makeBatch(3, 4, [0, 1, 0], 3);
    const buffers = batch.past!.map((tensor) => tensor.data.buffer);
    const joiner = randomPast(2, 7, 4);
    const sources: KvRowSource[] = [batch.source(0), batch.source(2), { past: joiner, row: 1, columns: 7, mask: new Uint8Array(7).fill(1) }];
    const reference = new KvBatch(PAST, HEADS, DIM);
    reference.rebuild(detached(sources));
    batch.rebuild(sources);
    expect(batch.past![0].data.buffer).not.toBe(buffers[0]);
    expect(batch.columns).toBe(7);
    expect(snapshot(batch)).toEqual(snapshot(reference));
  });

  test('kept rows out of order are copied, not compacted in place', () => {
    const batch = makeBatch(3, 5, [0, 0, 1], 5);
    const buffers = batch.past!.map((tensor) => tensor.data.buffer);
    const sources = [batch.source(2), batch.source(0)];
    const reference = new KvBatch(PAST, HEADS, DIM);
    reference.rebuild(detached(sources));
    batch.rebuild(sources);
    expect(batch.past![0].data.buffer).not.toBe(buffers[0]);
    expect(snapshot(batch)).toEqual(snapshot(reference));
  });
});
