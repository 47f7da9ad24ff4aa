import type { PartitionLog } from "./partition-log.js";
import type { StartPosition } from "./types.js";

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

/**
 * The offset of `log` where a group positioned at `start` begins: its start
 * or end, a given offset clamped to the retained range, or the first record
 * published at or after a time (see {@link findOffsetAtTime}).
 */
export async function startOffset(
  log: PartitionLog,
  start: StartPosition,
  publishTime: (value: Uint8Array) => number,
): Promise<bigint> {
  switch (start.kind) {
    case "earliest":
      return log.start;
    case "latest":
      return log.end;
    case "offset":
      return start.offset < log.start ? log.start : start.offset > log.end ? log.end : start.offset;
    case "timestamp":
      return findOffsetAtTime(log, start.timeMs, publishTime);
  }
}
