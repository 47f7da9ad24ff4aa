import { describe, expect, it, vi } from "vitest";
import { Broker } from "../../src/broker/broker.js";
import type { TopicSettings } from "../../src/broker/types.js";
import { MemoryStorage } from "../../src/storage/memory-storage.js";
import { ManualClock } from "../helpers/manual-clock.js";
import { msg, text, textCodec } from "../helpers/text-codec.js";

const settings = (overrides: Partial<TopicSettings> = {}): TopicSettings => ({
  partitions: 1,
  retentionMaxAgeMs: 3_600_000,
  retentionMaxBytes: 0n,
  dedupeWindowMs: 60_000,
  ...overrides,
});

async function open(mem = new MemoryStorage(), clock = new ManualClock()) {
  await mem.open();
  const broker = await Broker.open({ storage: mem, codec: textCodec, clock });
  return { mem, clock, broker };
}

describe("updating a topic", () => {
  it("adds partitions that every group reads from their start, durably", async () => {
    const { mem, clock, broker } = await open();
    await broker.createTopic("t", settings());
    await broker.groups.create("t", "g");
    const topic = await broker.updateTopic("t", { partitions: 3 });
    expect(topic.partitions.map((l) => l.partition)).toEqual([0, 1, 2]);
    expect(broker.groups.get("t", "g").partitions).toHaveLength(3);
    await broker.publish("t", [msg("new", "", 2)]);
    const sub = await broker.groups.subscribe({ topic: "t", group: "g", maxInFlight: 0 });
    const batch = await sub.next();
    expect(batch!.deliveries.map((d) => [d.partition, d.offset, text(d.value)])).toEqual([[2, 0n, "new"]]);
    sub.close();
    await broker.close();
    const reopened = await open(mem, clock);
    expect(reopened.broker.topic("t").partitions).toHaveLength(3);
    expect(reopened.broker.groups.get("t", "g").partitions).toHaveLength(3);
  });

  it("refuses fewer partitions, naming both counts, and changes nothing", async () => {
    const { broker } = await open();
    await broker.createTopic("t", settings({ partitions: 3 }));
    const err = await broker.updateTopic("t", { partitions: 2, dedupeWindowMs: 0 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "invalid-argument", message: expect.stringMatching(/has 3.*asks for 2/) });
    expect(broker.topic("t").meta).toMatchObject({ partitions: 3, dedupeWindowMs: 60_000 });
  });

  it("refuses an unknown topic, more partitions than the limit and a window over 1 day", async () => {
    const { broker } = await open();
    await broker.createTopic("t", settings());
    await expect(broker.updateTopic("nope", { partitions: 2 })).rejects.toMatchObject({ code: "not-found" });
    await expect(broker.updateTopic("t", { partitions: 100_000 })).rejects.toMatchObject({ code: "invalid-argument" });
    await expect(broker.updateTopic("t", { dedupeWindowMs: 86_400_001 })).rejects.toMatchObject({ code: "invalid-argument" });
  });

  it("changes only the settings given, durably", async () => {
    const { mem, clock, broker } = await open();
    await broker.createTopic("t", settings({ retentionMaxBytes: 5000n }));
    await broker.updateTopic("t", { dedupeWindowMs: 1000 });
    await broker.updateTopic("t", { retentionMaxAgeMs: 0, retentionMaxBytes: 0n });
    const expected = { partitions: 1, dedupeWindowMs: 1000, retentionMaxAgeMs: 7 * 24 * 3_600_000, retentionMaxBytes: 0n };
    expect(broker.topic("t").meta).toMatchObject(expected);
    await broker.close();
    expect((await open(mem, clock)).broker.topic("t").meta).toMatchObject(expected);
  });

  it("turns dedupe off at once when the window becomes 0", async () => {
    const { broker } = await open();
    await broker.createTopic("t", settings());
    await broker.publish("t", [msg("a", "id")]);
    await broker.updateTopic("t", { dedupeWindowMs: 0 });
    expect(await broker.publish("t", [msg("b", "id")])).toEqual([{ partition: 0, offset: 1n }]);
  });

  it("applies a shorter max_age in a pass that starts at once", async () => {
    const { mem, clock, broker } = await open();
    await broker.createTopic("t", settings());
    await broker.publish("t", [msg("a"), msg("b")]);
    clock.advance(5000);
    await broker.updateTopic("t", { retentionMaxAgeMs: 1000 });
    await vi.waitFor(async () => expect(await mem.partitionBounds(1, 0)).toEqual({ start: 2n, end: 2n }));
    expect(broker.topic("t").partitions[0]!.start).toBe(2n);
    // The emptied log keeps its offsets across a restart.
    await broker.close();
    const reopened = await open(mem, clock);
    expect(await reopened.broker.publish("t", [msg("c")])).toEqual([{ partition: 0, offset: 2n }]);
  });
});
