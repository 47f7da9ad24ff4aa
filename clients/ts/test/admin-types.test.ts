import { create } from "@bufbuild/protobuf";
import { durationFromMs, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { groupInfo, topicInfo } from "../src/admin-types.js";
import { GroupSchema, TopicSchema } from "../src/gen/sluice/v1/admin_pb.js";

const when = new Date("2024-05-01T00:00:00.000Z");

describe("topicInfo", () => {
  it("reads the dedupe window and each partition's size and oldest publish time", () => {
    const t = topicInfo(
      create(TopicSchema, {
        name: "t",
        partitionCount: 2,
        dedupeWindow: durationFromMs(120_000),
        partitions: [
          { partition: 0, startOffset: 5n, endOffset: 9n, bytes: 4096n, oldestPublishTime: timestampFromDate(when) },
          { partition: 1 },
        ],
      }),
    );
    expect(t.dedupeWindowMs).toBe(120_000);
    expect(t.partitions).toEqual([
      { partition: 0, startOffset: 5n, endOffset: 9n, bytes: 4096n, oldestPublishTime: when },
      { partition: 1, startOffset: 0n, endOffset: 0n, bytes: 0n, oldestPublishTime: undefined },
    ]);
  });

  it("reports no dedupe window as 0", () => {
    expect(topicInfo(create(TopicSchema, { name: "t" })).dedupeWindowMs).toBe(0);
  });
});

describe("groupInfo", () => {
  it("reads settings, blocked keys and per-partition redelivery, dead-letter, drop and skip counts", () => {
    const g = groupInfo(
      create(GroupSchema, {
        topic: "t",
        name: "g",
        settings: { ackDeadline: durationFromMs(10_000), ordered: true, maxDeliveries: 4, deadLetterTopic: "dlq" },
        blockedKeys: 2n,
        oldestBlockedKey: "k",
        partitions: [
          { partition: 0, pendingRedelivery: 1, nextRedeliveryTime: timestampFromDate(when), deadLettered: 3n, dropped: 1n, skipped: 7n },
        ],
      }),
    );
    expect(g).toMatchObject({
      ackDeadlineMs: 10_000,
      ordered: true,
      maxDeliveries: 4,
      deadLetterTopic: "dlq",
      retryBackoff: undefined,
      blockedKeys: 2n,
      oldestBlockedKey: "k",
    });
    expect(g.partitions[0]).toMatchObject({ pendingRedelivery: 1, nextRedeliveryTime: when, deadLettered: 3n, dropped: 1n, skipped: 7n });
  });
});
