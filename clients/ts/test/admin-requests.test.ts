import { durationMs } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import {
  createGroupRequest,
  createTopicRequest,
  seekGroupRequest,
  updateGroupRequest,
  updateTopicRequest,
} from "../src/admin-requests.js";
import { Code } from "../src/code.js";
import { StartPosition_Kind } from "../src/gen/sluice/v1/message_pb.js";

describe("admin requests", () => {
  it("createTopic sends retention and dedupe window only when given", () => {
    const plain = createTopicRequest("t", {});
    expect([plain.partitions, plain.retention, plain.dedupeWindow]).toEqual([0, undefined, undefined]);
    const full = createTopicRequest("t", { partitions: 4, retentionMaxAgeMs: 60_000, dedupeWindowMs: 0 });
    expect(full.partitions).toBe(4);
    expect(durationMs(full.retention!.maxAge!)).toBe(60_000);
    expect(full.retention!.maxBytes).toBe(0n);
    // 0 is sent (dedupe off), not left unset (the broker's 2-minute default).
    expect(durationMs(full.dedupeWindow!)).toBe(0);
  });

  it("updateTopic sets only the given changes; a retention replaces the whole policy", () => {
    const onlyPartitions = updateTopicRequest("t", { partitions: 8 });
    expect(onlyPartitions.partitions).toBe(8);
    expect(onlyPartitions.retention).toBeUndefined();
    expect(onlyPartitions.dedupeWindow).toBeUndefined();
    const retention = updateTopicRequest("t", { retention: { maxBytes: 1_000_000n }, dedupeWindowMs: 30_000 });
    expect(retention.partitions).toBeUndefined();
    expect(retention.retention?.maxBytes).toBe(1_000_000n);
    expect(retention.retention?.maxAge).toBeUndefined(); // the broker's default age applies
    expect(durationMs(retention.dedupeWindow!)).toBe(30_000);
    expect(() => updateTopicRequest("t", { partitions: 2.5 })).toThrowError(expect.objectContaining({ code: Code.InvalidArgument }));
  });

  it("createGroup carries the start position and every group setting", () => {
    const r = createGroupRequest("t", "g", { start: "latest", ordered: true, maxDeliveries: 3, deadLetterTopic: "dlq" });
    expect(r.start?.kind).toBe(StartPosition_Kind.LATEST);
    expect(r.settings).toMatchObject({ ordered: true, maxDeliveries: 3, deadLetterTopic: "dlq" });
    expect(createGroupRequest("t", "g", {}).settings).toBeUndefined();
  });

  it("updateGroup carries only the settings given", () => {
    const r = updateGroupRequest("t", "g", { retryBackoff: { minMs: 100, maxMs: 1000 } });
    expect(r.settings?.ordered).toBeUndefined();
    expect(durationMs(r.settings!.retryBackoff!.max!)).toBe(1000);
  });

  it("seekGroup carries the target's position or offsets", () => {
    expect(seekGroupRequest("t", "g", { kind: "offset", offset: 7n }).position).toMatchObject({ kind: StartPosition_Kind.OFFSET, offset: 7n });
    expect(seekGroupRequest("t", "g", { offsets: [{ partition: 1, offset: 2n }] }).offsets).toHaveLength(1);
  });
});
