/**
 * KvBatch: the running batch's key/value cache — one tensor per past input, shape [rows, heads,
 * columns, headDim] — and, per row, which columns it may attend to.
 *
 * Rows are right-aligned: a row's first real column is preceded by left padding (mask 0). Steps where
 * rows feed different numbers of tokens (jump-forward) leave masked holes in the shorter rows; holes and
 * padding stay masked for good. The cache is only copied when membership changes (`rebuild`): rows that
 * left are dropped, joiners are appended, and leading columns that every remaining row masks are
 * trimmed; between membership changes, `present.*` is fed back as `past_key_values.*` with no copy.
 */
import type { CacheTensor } from './onnx-model';

export interface KvRowSource {
  /** Cache tensors of the source batch (null = that batch is empty). */
  past: CacheTensor[] | null;
  /** Row index in the source, and the source's column count. */
  row: number;
  columns: number;
  /** The row's mask over the source's columns (1 = attend). */
  mask: Uint8Array;
}

export class KvBatch {
  past: CacheTensor[] | null = null;
  /** Columns in the cache. */
  columns = 0;
  /** masks[row][column], capacity ≥ columns. */
  masks: Uint8Array[] = [];
  rows = 0;

  constructor(
    private readonly pastCount: number,
    private readonly heads: number,
    private readonly headDim: number,
  ) {}

  /**
   * Replaces the batch with the given rows (from this batch or from a prefill), copying once. When the
   * rows kept from this batch come first and in their order, and the new cache fits in the current
   * tensors' buffers (no more columns, no more floats), they are compacted in place — every block moves
   * to a lower or equal offset, in increasing order, so nothing is overwritten before it is read — and
   * joiners are written after them: no allocation. Otherwise the tensors are allocated anew.
   */
  rebuild(sources: KvRowSource[]): void {
    if (sources.length === 0) {
      this.past = null;
      this.columns = 0;
      this.masks = [];
      this.rows = 0;
      return;
    }
    // Each source contributes its columns from its first attended one onwards.
    const spans = sources.map((source) => {
      let first = 0;
      while (first < source.columns && source.mask[first] === 0) first++;
      return source.columns - first;
    });
    const columns = Math.max(...spans);
    const rows = sources.length;
    const block = this.headDim;
    const size = rows * this.heads * columns * block;
    const inPlace = this.canCompactInPlace(sources, columns, size);
    const pastData: Float32Array[] = [];
    for (let index = 0; index < this.pastCount; index++) {
      pastData.push(inPlace ? new Float32Array(this.past![index].data.buffer, 0, size) : new Float32Array(size));
    }
    // In place, moves go through views of the whole buffers (a source range may lie past the new size).
    const whole = inPlace ? pastData.map((data) => new Float32Array(data.buffer)) : [];
    const masks: Uint8Array[] = [];
    for (let row = 0; row < rows; row++) {
      const source = sources[row];
      const span = spans[row];
      const skip = source.columns - span;
      const shift = columns - span;
      const mask = new Uint8Array(Math.max(16, columns * 2));
      mask.set(source.mask.subarray(skip, source.columns), shift);
      masks.push(mask);
      for (let index = 0; index < this.pastCount; index++) {
        const to = pastData[index];
        for (let head = 0; head < this.heads; head++) {
          const toBase = (row * this.heads + head) * columns * block;
          const toStart = toBase + shift * block;
          // Left padding is zeroed (a reused buffer holds old data there; it is masked either way).
          if (inPlace && shift > 0) to.fill(0, toBase, toStart);
          if (span === 0 || source.past === null) {
            if (inPlace) to.fill(0, toStart, toStart + span * block);
            continue;
          }
          const from = source.past[index].data;
          const fromStart = ((source.row * this.heads + head) * source.columns + skip) * block;
          if (from.buffer === to.buffer) whole[index].copyWithin(toStart, fromStart, fromStart + span * block);
          else to.set(from.subarray(fromStart, fromStart + span * block), toStart);
        }
      }
    }
    this.past = pastData.map((data) => ({ data, dims: [rows, this.heads, columns, block] }));
    this.columns = columns;
    this.masks = masks;
    this.rows = rows;
  }

  /** Whether a rebuild to these sources can reuse the current buffers (see rebuild). */
  private canCompactInPlace(sources: KvRowSource[], columns: number, size: number): boolean {
    const past = this.past;
    if (past === null || columns > this.columns) return false;
    for (const tensor of past) if (tensor.data.byteOffset !== 0 || tensor.data.buffer.byteLength < size * 4) return false;
    let previous = -1;
    let keptDone = false;
    for (let row = 0; row < sources.length; row++) {
      const source = sources[row];
      if (source.past === past) {
        // Kept rows first, in their order, each moving to the same or an earlier row.
        if (keptDone || source.row <= previous || source.row < row) return false;
        previous = source.row;
      } else {
        keptDone = true;
        if (source.past !== null && source.past.some((tensor, index) => tensor.data.buffer === past[index].data.buffer)) return false;
      }
    }
    return true;
  }

  /** Source descriptor of one of this batch's rows, for a rebuild. */
  source(row: number): KvRowSource {
    return { past: this.past, row, columns: this.columns, mask: this.masks[row] };
  }

  /** The attention_mask input for a step adding `length` columns, where row r's last `fed[r]` columns are real. */
  attentionMask(length: number, fed: readonly number[]): BigInt64Array {
    const total = this.columns + length;
    const out = new BigInt64Array(this.rows * total);
    for (let row = 0; row < this.rows; row++) {
      const mask = this.masks[row];
      const base = row * total;
      for (let column = 0; column < this.columns; column++) if (mask[column] !== 0) out[base + column] = 1n;
      for (let column = total - fed[row]; column < total; column++) out[base + column] = 1n;
    }
    return out;
  }

  /** After a step: the presents become the cache, and the new columns' masks are recorded. */
  advance(presents: CacheTensor[], length: number, fed: readonly number[]): void {
    const total = this.columns + length;
    for (let row = 0; row < this.rows; row++) {
      let mask = this.masks[row];
      if (mask.length < total) {
        const grown = new Uint8Array(total * 2);
        grown.set(mask.subarray(0, this.columns));
        mask = grown;
        this.masks[row] = mask;
      }
      mask.fill(0, this.columns, total - fed[row]);
      mask.fill(1, total - fed[row], total);
    }
    this.past = presents;
    this.columns = total;
  }
}
