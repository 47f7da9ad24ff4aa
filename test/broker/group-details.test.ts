import { describe, expect, it } from "vitest";
import { blockedKeys } from "../../src/broker/group-details.js";
import type { GroupPartition } from "../../src/broker/group-partition.js";

/** A partition with only the parked messages `blockedKeys` reads. */
function parkedIn(entries: [key: string, since: number, offsets: bigint[]][]): GroupPartition {
  const parked = new Map(entries.map(([key, since, offsets]) => [key, { offsets, since }]));
  return { parked } as unknown as GroupPartition;
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
});
