import { describe, expect, it } from "vitest";
import { blockedKeys, groupPartitionInfo } from "../../src/broker/group-details.js";
import { GroupPartition } from "../../src/broker/group-partition.js";
import type { PartitionLog } from "../../src/broker/partition-log.js";

/** A partition with only the parked messages `blockedKeys` reads. */
function parkedIn(entries: [key: string, since: number, offsets: bigint[]][]): GroupPartition {
  const parked = new Map(entries.map(([key, since, offsets]) => [key, { offsets, since }]));
  return { keys: { parked } } as unknown as GroupPartition;
}

describe("group details", () => {
  it("counts no blocked keys and names none when nothing is parked", () => {
    expect(blockedKeys([])).toEqual({ count: 0, oldest: "" });
    expect(blockedKeys([parkedIn([])])).toEqual({ count: 0, oldest: "" });
  });

  it("counts each blocked key once per partition, whatever the messages behind it, and names the longest waiting", () => {
    const partitions = [
      parkedIn([
        ["a", 300, [5n, 6n, 7n]],
        ["b", 200, [8n]],
      ]),
      parkedIn([
        ["a", 250, [3n]],
        ["c", 100, [4n]],
      ]),
    ];
    expect(blockedKeys(partitions)).toEqual({ count: 4, oldest: "c" });
  });

  it("reports a partition's lag without acks above the committed offset, and counts only redeliveries as pending", () => {
    const log = { partition: 2, start: 0n, end: 10n } as PartitionLog;
    const gp = new GroupPartition(log, { committed: 3n, acked: [[5n, 7n]], deadLettered: 1n, dropped: 2n, skipped: 3n });
    gp.giveBack(8n, 1, "", 1000);
    // A parked message freed by its key waits with attempt 0: not a redelivery.
    gp.giveBack(9n, 0, "k", 500);
    expect(groupPartitionInfo(gp)).toEqual({
      partition: 2,
      committed: 3n,
      end: 10n,
      lag: 5n,
      inFlight: 0,
      ackedAbove: 2n,
      pendingRedelivery: 1,
      nextRedeliveryAt: 500,
      deadLettered: 1n,
      dropped: 2n,
      skipped: 3n,
    });
  });

  it("reports no lag, never a negative one, when the acks reach past the log's end", () => {
    const log = { partition: 0, start: 0n, end: 4n } as PartitionLog;
    const gp = new GroupPartition(log, { committed: 4n, acked: [[6n, 8n]] });
    expect(groupPartitionInfo(gp).lag).toBe(0n);
    expect(groupPartitionInfo(gp).nextRedeliveryAt).toBeUndefined();
  });
});
