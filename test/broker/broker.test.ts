import { describe, expect, it } from "vitest";
import { Broker } from "../../src/broker/broker.js";
import { BrokerError } from "../../src/broker/broker-error.js";
import type { RecordCodec } from "../../src/broker/record-codec.js";
import type { Storage } from "../../src/storage/storage.js";
import { MemoryStorage } from "../../src/storage/memory-storage.js";
import { ManualClock } from "../helpers/manual-clock.js";

/** A readable codec for core tests: the payload text and the publish time. */
const textCodec: RecordCodec = {
  encode: (m, t) => new TextEncoder().encode(JSON.stringify({ p: new TextDecoder().decode(m.payload), t })),
  publishTime: (v) => JSON.parse(new TextDecoder().decode(v)).t,
  size: (m) => m.payload.byteLength + m.key.length,
  key: () => "",
  decode: (v) => ({ key: "", payload: new TextEncoder().encode(JSON.parse(new TextDecoder().decode(v)).p), headers: {}, messageId: "" }),
};
const text = (v: Uint8Array) => JSON.parse(new TextDecoder().decode(v)).p as string;
const msg = (p: string) => ({ key: "", payload: new TextEncoder().encode(p), headers: {}, messageId: "" });
const topicSettings = { partitions: 1, retentionMaxAgeMs: 0, retentionMaxBytes: 0n, dedupeWindowMs: 0 };

/** Counts the storage batches written. */
function counting(storage: MemoryStorage): { storage: Storage; writes: () => number } {
  let writes = 0;
  const wrapped: Storage = {
    open: () => storage.open(),
    close: () => storage.close(),
    load: () => storage.load(),
    partitionBounds: (t, p) => storage.partitionBounds(t, p),
    readRecords: (t, p, f, n, b) => storage.readRecords(t, p, f, n, b),
    getRecords: (t, p, o) => storage.getRecords(t, p, o),
    purgeDeleted: () => storage.purgeDeleted(),
    deleteRecords: (t, p, f, to) => storage.deleteRecords(t, p, f, to),
    partitionBytes: (t, p, f) => storage.partitionBytes(t, p, f),
    readDedupeSnapshot: () => storage.readDedupeSnapshot(),
    batch: () => {
      const batch = storage.batch();
      const write = batch.write.bind(batch);
      batch.write = (o) => {
        writes++;
        return write(o);
      };
      return batch;
    },
  };
  return { storage: wrapped, writes: () => writes };
}

async function open(clock = new ManualClock()) {
  const mem = new MemoryStorage();
  await mem.open();
  const c = counting(mem);
  const broker = await Broker.open({ storage: c.storage, codec: textCodec, clock });
  return { mem, broker, clock, writes: c.writes };
}

describe("publishing", () => {
  it("commits concurrent publishes in one storage write", async () => {
    const { broker, writes } = await open();
    await broker.createTopic("t", topicSettings);
    const before = writes();
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => broker.publish("t", [msg(`m${i}`)])));
    expect(writes() - before).toBe(1);
    expect(results.map((r) => r[0]!.offset).sort((a, b) => Number(a - b))).toEqual(
      Array.from({ length: 50 }, (_, i) => BigInt(i)),
    );
  });

  it("fails a publish whose write fails and keeps offsets dense", async () => {
    const { mem, broker } = await open();
    await broker.createTopic("t", topicSettings);
    await broker.publish("t", [msg("a")]);
    mem.failNextWrites(1, "io");
    await expect(broker.publish("t", [msg("lost"), msg("lost")])).rejects.toMatchObject({ code: "unavailable" });
    const [r] = await broker.publish("t", [msg("b")]);
    expect(r!.offset).toBe(1n);
  });

  it("counts a publish against the publish budget until its write is done, or has failed", async () => {
    const { mem, broker } = await open();
    await broker.createTopic("t", topicSettings);
    const budget = broker.publishBudget;
    const pending = broker.publish("t", [msg("abc"), msg("de")]);
    expect(budget.used).toBe(5);
    await pending;
    expect(budget.used).toBe(0);
    mem.failNextWrites(1, "io");
    const failing = broker.publish("t", [msg("xyz")]);
    expect(budget.used).toBe(3);
    await expect(failing).rejects.toMatchObject({ code: "unavailable" });
    expect(budget.used).toBe(0);
    // Refused before it is accepted: nothing taken.
    await expect(broker.publish("t", [])).rejects.toMatchObject({ code: "invalid-argument" });
    expect(budget.used).toBe(0);
  });

  it("reports a full disk as resource-exhausted", async () => {
    const { mem, broker } = await open();
    await broker.createTopic("t", topicSettings);
    mem.failNextWrites(1, "full");
    const err = await broker.publish("t", [msg("x")]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BrokerError);
    expect((err as BrokerError).code).toBe("resource-exhausted");
  });

  it("refuses new work once closing", async () => {
    const { broker } = await open();
    await broker.createTopic("t", topicSettings);
    await broker.close();
    await expect(broker.publish("t", [msg("x")])).rejects.toMatchObject({ code: "unavailable" });
  });
});

describe("leases", () => {
  it("redelivers with the next attempt once the ack deadline passes", async () => {
    const { broker, clock } = await open();
    await broker.createTopic("t", topicSettings);
    await broker.publish("t", [msg("a")]);
    const sub = await broker.groups.subscribe({ topic: "t", group: "g", maxInFlight: 0, settings: { ackDeadlineMs: 5000 } });
    const first = await sub.next();
    expect(first!.deliveries.map((d) => [text(d.value), d.attempt])).toEqual([["a", 1]]);
    expect(first!.deadline).toBe(clock.now() + 5000);
    const pending = sub.next();
    clock.advance(4000);
    expect(sub.group.partitions[0]!.inFlight.size).toBe(1);
    clock.advance(1100);
    const again = await pending;
    expect(again!.deliveries.map((d) => [text(d.value), d.attempt])).toEqual([["a", 2]]);
    sub.close();
  });

  it("persists acks in the same write queue and restores them on reopen", async () => {
    const { mem, broker } = await open();
    await broker.createTopic("t", topicSettings);
    await broker.publish("t", [msg("a"), msg("b"), msg("c")]);
    const sub = await broker.groups.subscribe({ topic: "t", group: "g", maxInFlight: 0 });
    const batch = await sub.next();
    sub.ack([{ partition: 0, offset: 0n }, { partition: 0, offset: 2n }]);
    expect(batch!.deliveries).toHaveLength(3);
    await broker.close();
    const again = await Broker.open({ storage: mem, codec: textCodec, clock: new ManualClock() });
    const gp = again.groups.get("t", "g").partitions[0]!;
    expect(gp.acks.floor).toBe(1n);
    expect(gp.acks.ranges()).toEqual([[2n, 3n]]);
    const sub2 = await again.groups.subscribe({ topic: "t", group: "g", maxInFlight: 0 });
    const redelivered = await sub2.next();
    expect(redelivered!.deliveries.map((d) => text(d.value))).toEqual(["b"]);
    sub2.close();
  });

  it("keeps delivering after a restart when whole read-aheads of the log were acknowledged above the floor", async () => {
    const { mem, broker } = await open();
    await broker.createTopic("t", topicSettings);
    // Ten reads' worth, more than the wake-ups that publishing and subscribing cause anyway.
    const n = 10_240;
    await broker.publish("t", Array.from({ length: n }, (_, i) => msg(`m${i}`)));
    const sub = await broker.groups.subscribe({ topic: "t", group: "g", maxInFlight: 20_000 });
    for (let got = 0; got < n; ) got += (await sub.next())!.deliveries.length;
    // All but offset 0: the floor stays at 0, and the acks above it span several reads of the log.
    sub.ack(Array.from({ length: n - 1 }, (_, i) => ({ partition: 0, offset: BigInt(i + 1) })));
    await broker.close();
    const again = await Broker.open({ storage: mem, codec: textCodec, clock: new ManualClock() });
    await again.publish("t", [msg("new")]);
    const sub2 = await again.groups.subscribe({ topic: "t", group: "g", maxInFlight: 20_000 });
    const seen: string[] = [];
    while (seen.length < 2) seen.push(...(await sub2.next())!.deliveries.map((d) => text(d.value)));
    expect(seen).toEqual(["m0", "new"]);
    sub2.close();
  });

  it("ends an open subscription when the broker closes, with unavailable", async () => {
    const { broker } = await open();
    await broker.createTopic("t", topicSettings);
    const sub = await broker.groups.subscribe({ topic: "t", group: "g", maxInFlight: 0 });
    const waiting = sub.next();
    const closed = broker.close();
    await expect(waiting).rejects.toMatchObject({ code: "unavailable" });
    await closed;
  });
});

describe("the write queue", () => {
  it("keeps writing after a batch in which every task failed to build", async () => {
    const { broker } = await open();
    await broker.createTopic("t", topicSettings);
    // The topic disappears before the batch forms: the publish fails in
    // build(), alone in its batch, so the batch writes nothing.
    const doomed = broker.publish("t", [msg("x")]);
    broker.topic("t").deleted = true;
    await expect(doomed).rejects.toMatchObject({ code: "not-found" });
    await broker.createTopic("u", topicSettings);
    const [r] = await broker.publish("u", [msg("y")]);
    expect(r!.offset).toBe(0n);
  });
});

describe("restart", () => {
  it("never gives a message an earlier publish time than the last stored one, even if the clock went back", async () => {
    const clock = new ManualClock();
    const { mem, broker } = await open(clock);
    await broker.createTopic("t", topicSettings);
    await broker.publish("t", [msg("a")]);
    const before = clock.now();
    await broker.close();
    const backwards = { now: () => before - 60_000, setTimer: clock.setTimer.bind(clock) };
    const again = await Broker.open({ storage: mem, codec: textCodec, clock: backwards });
    await again.publish("t", [msg("b")]);
    const log = again.topic("t").partitions[0]!;
    const values = await log.get([0n, 1n]);
    expect(textCodec.publishTime(values[1]!)).toBeGreaterThanOrEqual(textCodec.publishTime(values[0]!));
  });
});
