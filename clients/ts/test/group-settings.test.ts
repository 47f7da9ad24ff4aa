import { create } from "@bufbuild/protobuf";
import { durationFromMs, durationMs } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { Code } from "../src/code.js";
import { GroupSettingsSchema } from "../src/gen/sluice/v1/message_pb.js";
import { groupSettingsInfo, groupSettingsMessage } from "../src/group-settings.js";

describe("groupSettingsMessage", () => {
  it("sets every given setting, with ms as Durations", () => {
    const m = groupSettingsMessage({
      ackDeadlineMs: 5000,
      ordered: true,
      retryBackoff: { minMs: 250, maxMs: 8000 },
      maxDeliveries: 5,
      deadLetterTopic: "dlq",
    })!;
    expect(durationMs(m.ackDeadline!)).toBe(5000);
    expect(m.ordered).toBe(true);
    expect([durationMs(m.retryBackoff!.min!), durationMs(m.retryBackoff!.max!)]).toEqual([250, 8000]);
    expect(m.maxDeliveries).toBe(5);
    expect(m.deadLetterTopic).toBe("dlq");
  });

  it("leaves settings not given unset, so an update changes only the given ones", () => {
    const m = groupSettingsMessage({ maxDeliveries: 0, ordered: false })!;
    expect(m.maxDeliveries).toBe(0);
    expect(m.ordered).toBe(false);
    expect(m.ackDeadline).toBeUndefined();
    expect(m.retryBackoff).toBeUndefined();
    expect(m.deadLetterTopic).toBeUndefined();
  });

  it("is undefined when nothing is given, so the broker's defaults apply", () => {
    expect(groupSettingsMessage(undefined)).toBeUndefined();
    expect(groupSettingsMessage({})).toBeUndefined();
  });

  it("rounds fractional ms to whole ones (a Duration's nanos must be whole)", () => {
    expect(groupSettingsMessage({ ackDeadlineMs: 1500.6 })!.ackDeadline).toMatchObject({ seconds: 1n, nanos: 501_000_000 });
  });

  it("rejects values without a wire form with INVALID_ARGUMENT", () => {
    const bad = [{ ackDeadlineMs: -1 }, { ackDeadlineMs: Number.NaN }, { maxDeliveries: 1.5 }, { maxDeliveries: -1 }, { retryBackoff: { minMs: Infinity, maxMs: 1 } }];
    for (const settings of bad) {
      expect(() => groupSettingsMessage(settings)).toThrowError(expect.objectContaining({ code: Code.InvalidArgument }));
    }
  });
});

describe("groupSettingsInfo", () => {
  it("reads reported settings into ms and plain values", () => {
    const info = groupSettingsInfo(
      create(GroupSettingsSchema, {
        ackDeadline: durationFromMs(30_000),
        ordered: true,
        retryBackoff: { min: durationFromMs(100), max: durationFromMs(400) },
        maxDeliveries: 3,
        deadLetterTopic: "dlq",
      }),
    );
    expect(info).toEqual({ ackDeadlineMs: 30_000, ordered: true, retryBackoff: { minMs: 100, maxMs: 400 }, maxDeliveries: 3, deadLetterTopic: "dlq" });
  });

  it("fills the wire defaults for settings not reported", () => {
    expect(groupSettingsInfo(undefined)).toEqual({ ackDeadlineMs: undefined, ordered: false, retryBackoff: undefined, maxDeliveries: 0, deadLetterTopic: "" });
  });
});
