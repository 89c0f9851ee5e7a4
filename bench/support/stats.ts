/** Latency summary of one measured loop, in microseconds. */
export interface LatencySummary {
  count: number;
  p50Us: number;
  p99Us: number;
  meanUs: number;
  maxUs: number;
}

/** The nearest-rank percentile `p` (0..100) of an ascending list. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

/** Summarizes per-call latencies given in microseconds. */
export function summarizeLatencies(latenciesUs: Float64Array): LatencySummary {
  const sorted = Float64Array.from(latenciesUs).sort();
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    count: sorted.length,
    p50Us: percentile(sorted, 50),
    p99Us: percentile(sorted, 99),
    meanUs: sorted.length > 0 ? sum / sorted.length : Number.NaN,
    maxUs: sorted.length > 0 ? sorted[sorted.length - 1]! : Number.NaN,
  };
}
