/**
 * TokenMask: a bit set over the vocabulary saying which token ids may come next.
 * Backends apply it to the logits of one sequence before sampling (disallowed logits → -Infinity).
 */
export class TokenMask {
  readonly size: number;
  readonly bits: Uint32Array;

  constructor(size: number) {
    this.size = size;
    this.bits = new Uint32Array((size + 31) >>> 5);
  }

  clear(): void {
    this.bits.fill(0);
  }

  /** Allows every token id. */
  fill(): void {
    this.bits.fill(0xffffffff);
    const extra = this.bits.length * 32 - this.size;
    if (extra > 0) this.bits[this.bits.length - 1] = 0xffffffff >>> extra;
  }

  allow(token: number): void {
    this.bits[token >>> 5] |= 1 << (token & 31);
  }

  forbid(token: number): void {
    this.bits[token >>> 5] &= ~(1 << (token & 31));
  }

  has(token: number): boolean {
    return token >= 0 && token < this.size && (this.bits[token >>> 5] & (1 << (token & 31))) !== 0;
  }

  /** this &= other */
  intersect(other: TokenMask): void {
    const n = Math.min(this.bits.length, other.bits.length);
    for (let i = 0; i < n; i++) this.bits[i] &= other.bits[i];
  }

  /** this |= other */
  union(other: TokenMask): void {
    const n = Math.min(this.bits.length, other.bits.length);
    for (let i = 0; i < n; i++) this.bits[i] |= other.bits[i];
  }

  count(): number {
    let total = 0;
    for (let i = 0; i < this.bits.length; i++) {
      let v = this.bits[i];
      v = v - ((v >>> 1) & 0x55555555);
      v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
      total += (((v + (v >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
    }
    return total;
  }

  /** Sets logits of disallowed tokens to -Infinity, in place. `logits` may be longer than size (padding). */
  applyTo(logits: Float32Array, offset = 0): void {
    const bits = this.bits;
    for (let word = 0; word < bits.length; word++) {
      const value = bits[word];
      if (value === 0xffffffff) continue;
      const base = word << 5;
      const end = Math.min(32, this.size - base);
      for (let bit = 0; bit < end; bit++) {
        if ((value & (1 << bit)) === 0) logits[offset + base + bit] = -Infinity;
      }
    }
  }

  *allowed(): IterableIterator<number> {
    for (let word = 0; word < this.bits.length; word++) {
      let value = this.bits[word];
      while (value !== 0) {
        const bit = 31 - Math.clz32(value & -value);
        yield (word << 5) + bit;
        value &= value - 1;
      }
    }
  }
}
