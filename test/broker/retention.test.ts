import { describe, expect, it, vi } from "vitest";
import { Broker } from "../../src/broker/broker.js";
import { blockedKeys } from "../../src/broker/group-details.js";
import type { TopicSettings } from "../../src/broker/types.js";
import { MemoryStorage } from "../../src/storage/memory-storage.js";
import { ManualClock } from "../helpers/manual-clock.js";
import { msg, text, textCodec } from "../helpers/text-codec.js";

const settings = (overrides: Partial<TopicSettings> = {}): TopicSettings => ({
  partitions: 1,
  retentionMaxAgeMs: 10_000,
  retentionMaxBytes: 0n,
  dedupeWindowMs: 0,
  ...overrides,
});

async function open(mem = new MemoryStorage(), clock = new ManualClock(), retentionIntervalMs = 30_000) {
  await mem.open();
  const broker = await Broker.open({ storage: mem, codec: textCodec, clock, retentionIntervalMs });
  return { mem, clock, broker };
}

/** `n` messages of equal size. */
const same = (n: number, from = 0) => Array.from({ length: n }, (_, i) => msg(`m${String(from + i).padStart(5, "0")}`));

describe("retention by age", () => {
  it("removes messages older than max_age and moves groups past them, counting what they never acked as skipped", async () => {
    const { mem, clock, broker } = await open();
    await broker.createTopic("t", settings());
    await broker.groups.create("t", "g");
    await broker.publish("t", same(5));
    clock.advance(5000);
    await broker.publish("t", same(5, 5));
    const sub = await broker.groups.subscribe({ topic: "t", group: "g", maxInFlight: 0 });
    expect((await sub.next())!.deliveries).toHaveLength(10);
    sub.ack([0n, 1n].map((offset) => ({ partition: 0, offset })));
    clock.advance(6000);
    await broker.runRetention();
    expect(broker.topic("t").partitions[0]!.start).toBe(5n);
    expect(await mem.partitionBounds(1, 0)).toEqual({ start: 5n, end: 10n });
    const gp = broker.groups.get("t", "g").partitions[0]!;
    expect(gp.skipped).toBe(3n);
    expect(gp.acks.floor).toBe(5n);
    expect([...gp.inFlight.keys()]).toEqual([5n, 6n, 7n, 8n, 9n]);
    sub.close();
  });

  it("keeps every message younger than max_age", async () => {
    const { mem, clock, broker } = await open();
    await broker.createTopic("t", settings());
    await broker.publish("t", same(3));
    clock.advance(9999);
    await broker.runRetention();
    expect(await mem.partitionBounds(1, 0)).toEqual({ start: 0n, end: 3n });
  });

  it("starts new groups at the new start", async () => {
    const { clock, broker } = await open();
    await broker.createTopic("t", settings());
    await broker.publish("t", same(3));
    clock.advance(20_000);
    await broker.publish("t", same(1, 3));
    await broker.runRetention();
    const g = await broker.groups.create("t", "late");
    expect(g.partitions[0]!.acks.floor).toBe(3n);
    expect(g.partitions[0]!.skipped).toBe(0n);
  });
});

describe("groups below the new start", () => {
  it("never deliver read-ahead messages that retention removed", async () => {
    const { clock, broker } = await open();
    await broker.createTopic("t", settings());
    await broker.publish("t", same(10));
    const sub = await broker.groups.subscribe({ topic: "t", group: "g", maxInFlight: 2 });
    expect((await sub.next())!.deliveries.map((d) => d.offset)).toEqual([0n, 1n]);
    clock.advance(20_000);
    await broker.runRetention();
    expect(broker.groups.get("t", "g").partitions[0]!.skipped).toBe(10n);
    await broker.publish("t", [msg("new")]);
    expect((await sub.next())!.deliveries.map((d) => [d.offset, text(d.value)])).toEqual([[10n, "new"]]);
    sub.close();
  });

  it("of an ordered group free the keys of removed messages without delivering removed ones waiting behind them", async () => {
    const { clock, broker } = await open();
    await broker.createTopic("t", settings());
    await broker.publish("t", [0, 1, 2, 3].map((i) => msg(`m${i}`, "", undefined, "k")));
    const sub = await broker.groups.subscribe({ topic: "t", group: "g", maxInFlight: 0, settings: { ordered: true } });
    expect((await sub.next())!.deliveries.map((d) => d.offset)).toEqual([0n]);
    clock.advance(15_000);
    await broker.publish("t", [msg("m4", "", undefined, "k")]);
    clock.advance(5000);
    await broker.runRetention();
    expect(broker.topic("t").partitions[0]!.start).toBe(4n);
    expect((await sub.next())!.deliveries.map((d) => [d.offset, text(d.value)])).toEqual([[4n, "m4"]]);
    expect(blockedKeys(broker.groups.get("t", "g").partitions)).toEqual({ count: 0, oldest: "" });
    sub.close();
  });
});

describe("retention by bytes", () => {
  it("removes the oldest messages until the partition fits in max_bytes", async () => {
    const { mem, broker } = await open();
    const recordBytes = textCodec.encode(same(1)[0]!, 1_700_000_000_000).byteLength;
    await broker.createTopic("t", settings({ partitions: 2, retentionMaxBytes: BigInt(10 * recordBytes) }));
    await broker.publish("t", same(50).map((m) => ({ ...m, partition: 0 })));
    await broker.publish("t", same(5).map((m) => ({ ...m, partition: 1 })));
    await broker.runRetention();
    expect(await mem.partitionBounds(1, 0)).toEqual({ start: 40n, end: 50n });
    expect(await mem.partitionBytes(1, 0)).toBe(10 * recordBytes);
    expect(await mem.partitionBounds(1, 1)).toEqual({ start: 0n, end: 5n });
  });
});

describe("the retention loop", () => {
  it("runs at start and then every interval", async () => {
    const first = await open(undefined, undefined, 1000);
    await first.broker.createTopic("t", settings());
    await first.broker.publish("t", same(3));
    await first.broker.close();
    first.clock.advance(20_000);
    const { broker, clock } = await open(first.mem, first.clock, 1000);
    const log = broker.topic("t").partitions[0]!;
    await vi.waitFor(() => expect(log.start).toBe(3n));
    await broker.publish("t", same(2, 3));
    clock.advance(11_000);
    await vi.waitFor(() => expect(log.start).toBe(5n));
  });

  it("stops on close", async () => {
    const { mem, clock, broker } = await open(undefined, undefined, 1000);
    await broker.createTopic("t", settings());
    await broker.publish("t", same(3));
    await broker.close();
    clock.advance(60_000);
    await broker.runRetention();
    // A pass on MemoryStorage settles within one turn of the event loop.
    await new Promise((resolve) => setImmediate(resolve));
    expect(await mem.partitionBounds(1, 0)).toEqual({ start: 0n, end: 3n });
  });
});
