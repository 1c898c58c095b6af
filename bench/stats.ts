// Small statistics the benchmarks share.

/** An ascending copy of `values`. */
export function ascending(values: readonly number[]): number[] {
  return [...values].sort((a, b) => a - b);
}

/**
 * The value at quantile `q` (0 < q ≤ 1) of `sorted` (ascending) by the nearest-rank method: the
 * smallest value with at least `q` of the values at or below it. Undefined when there is none.
 */
export function nearestRank(sorted: readonly number[], q: number): number | undefined {
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
}

/** The middle value (the mean of the two middle ones for an even count). */
export function median(values: readonly number[]): number {
  const sorted = ascending(values);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}
