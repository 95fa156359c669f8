/** Small statistics shared by the benchmarks. */

/** The middle value (the upper of the two middle ones for an even count), without interpolation. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}
