import type { PartitionLog } from "./partition-log.js";

/**
 * The first offset of `log` whose publish time is at or after `timeMs`, or
 * the end when there is none. Publish times never decrease within a
 * partition, so a binary search over offsets needs about log2(n) point reads
 * and no index.
 */
export async function findOffsetAtTime(
  log: PartitionLog,
  timeMs: number,
  publishTime: (value: Uint8Array) => number,
): Promise<bigint> {
  let lo = log.start;
  let hi = log.end;
  while (lo < hi) {
    const mid = lo + (hi - lo) / 2n;
    const [value] = await log.get([mid]);
    // A record removed underneath us (retention) counts as older than any time.
    if (value === undefined || publishTime(value) < timeMs) lo = mid + 1n;
    else hi = mid;
  }
  return lo;
}
