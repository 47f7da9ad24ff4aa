import { readFileSync } from "node:fs";

/** Small statistics helpers: medians of runs and latency percentiles. */

/** The median of `xs` (the mean of the middle two for an even count); NaN when empty. */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** The `q` quantile (0..1) of ascending `sorted`, nearest-rank. */
export function quantile(sorted: Float64Array | readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i]!;
}

/** Latency samples in milliseconds, summarised. */
export interface LatencySummary {
  readonly count: number;
  readonly p50: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
}

export function summarize(samplesMs: Float64Array): LatencySummary {
  const s = Float64Array.from(samplesMs).sort();
  return {
    count: s.length,
    p50: quantile(s, 0.5),
    p99: quantile(s, 0.99),
    p999: quantile(s, 0.999),
    max: s.length ? s[s.length - 1]! : NaN,
  };
}

/** The machine's 1-minute load average, from /proc/loadavg (NaN elsewhere). */
export function loadAverage(): number {
  try {
    return Number(readFileSync("/proc/loadavg", "utf8").split(" ")[0]);
  } catch {
    return NaN;
  }
}
