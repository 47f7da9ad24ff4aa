import { describe, expect, it } from "vitest";
import { Broker } from "../../src/broker/broker.js";
import { BrokerError } from "../../src/broker/broker-error.js";
import type { DeliveryBatch, Subscription } from "../../src/broker/subscription.js";
import type { BrokerLimits } from "../../src/broker/types.js";
import { MemoryStorage } from "../../src/storage/memory-storage.js";
import { ManualClock } from "../helpers/manual-clock.js";
import { msg, text, textCodec } from "../helpers/text-codec.js";

/**
 * A subscription out of credit waits for one of its own leases to go; one
 * with credit waits for the group to change. These check that every way a
 * waiting subscription can become able to take does wake it.
 */
async function open(limits: Partial<BrokerLimits> = {}) {
  const mem = new MemoryStorage();
  await mem.open();
  const clock = new ManualClock();
  const broker = await Broker.open({ storage: mem, codec: textCodec, clock, limits });
  await broker.createTopic("t", { partitions: 1, retentionMaxAgeMs: 0, retentionMaxBytes: 0n, dedupeWindowMs: 0 });
  return { broker, clock };
}

/** Publishes `n` messages, "m<offset>" for a topic published only through this. */
async function publish(broker: Broker, n: number, key = ""): Promise<void> {
  const end = Number(broker.topics.get("t")!.partitions[0]!.end);
  for (let i = 0; i < n; i++) await broker.publish("t", [msg(`m${end + i}`, "", undefined, key)]);
}

const texts = (b: DeliveryBatch | null) => b?.deliveries.map((d) => text(d.value));
const positions = (b: DeliveryBatch) => b.deliveries.map((d) => ({ partition: d.partition, offset: d.offset }));

/** Whether `p` settled within the turns already queued (two event-loop turns: the group's wake-ups run on the next one). */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  void p.then(
    () => (done = true),
    () => (done = true),
  );
  await new Promise((r) => setImmediate(r));
  await new Promise((r) => setImmediate(r));
  return done;
}

async function fullSubscription(broker: Broker, maxInFlight: number): Promise<{ sub: Subscription; first: DeliveryBatch }> {
  const sub = await broker.groups.subscribe({ topic: "t", group: "g", maxInFlight });
  const first = (await sub.next())!;
  expect(first.deliveries).toHaveLength(maxInFlight);
  return { sub, first };
}

describe("a subscription out of credit", () => {
  it("is woken by an ack of its own lease, and takes what the ack made room for", async () => {
    const { broker } = await open();
    await publish(broker, 5);
    const { sub, first } = await fullSubscription(broker, 2);
    const next = sub.next();
    expect(await settled(next)).toBe(false);
    sub.ack(positions(first));
    expect(texts(await next)).toEqual(["m2", "m3"]);
  });

  it("is not woken by acks of another subscription's leases, and still is by its own", async () => {
    const { broker } = await open();
    await publish(broker, 6);
    const { sub: a, first: fa } = await fullSubscription(broker, 2);
    const { sub: b, first: fb } = await fullSubscription(broker, 2);
    const nextA = a.next();
    const nextB = b.next();
    b.ack(positions(fb));
    expect(texts(await nextB)).toEqual(["m4", "m5"]);
    expect(await settled(nextA)).toBe(false);
    await publish(broker, 1); // a new record: still nothing for a stream without credit
    expect(await settled(nextA)).toBe(false);
    a.ack(positions(fa).slice(0, 1));
    expect(texts(await nextA)).toEqual(["m6"]);
  });

  it("is woken by a nack of its own lease and gets the message again", async () => {
    const { broker } = await open();
    await publish(broker, 1);
    const { sub, first } = await fullSubscription(broker, 1);
    const next = sub.next();
    sub.nack(positions(first), 0);
    const again = (await next)!;
    expect(texts(again)).toEqual(["m0"]);
    expect(again.deliveries[0]!.attempt).toBe(2);
  });

  it("is woken when its lease expires and gets the message again", async () => {
    const { broker, clock } = await open();
    await publish(broker, 1);
    const { sub } = await fullSubscription(broker, 1);
    const next = sub.next();
    expect(await settled(next)).toBe(false);
    clock.advance(broker.groups.get("t", "g").meta.ackDeadlineMs + 1);
    // Redelivered after the group's retry backoff.
    clock.advance(broker.groups.get("t", "g").meta.retryBackoffMaxMs);
    const again = (await next)!;
    expect(texts(again)).toEqual(["m0"]);
    expect(again.deliveries[0]!.attempt).toBe(2);
  });

  it("ends its wait when closed, with the close error", async () => {
    const { broker } = await open();
    await publish(broker, 2);
    const { sub } = await fullSubscription(broker, 1);
    const next = sub.next();
    expect(await settled(next)).toBe(false);
    sub.close(new BrokerError("unavailable", "shutting down"));
    await expect(next).rejects.toThrow("shutting down");
  });

  it("ends its wait when the caller's signal aborts", async () => {
    const { broker } = await open();
    await publish(broker, 2);
    const { sub } = await fullSubscription(broker, 1);
    const stop = new AbortController();
    const next = sub.next(10, stop.signal);
    expect(await settled(next)).toBe(false);
    stop.abort();
    expect(await next).toBeNull();
    expect(sub.closed).toBe(false);
  });
});

describe("a subscription with credit", () => {
  it("is woken when another subscription's ack lifts the group's in-flight limit", async () => {
    const { broker } = await open({ maxGroupInFlight: 2 });
    await publish(broker, 4);
    const { sub: a, first } = await fullSubscription(broker, 2);
    const b = await broker.groups.subscribe({ topic: "t", group: "g", maxInFlight: 10 });
    const nextB = b.next();
    expect(await settled(nextB)).toBe(false);
    a.ack(positions(first).slice(0, 1));
    expect(texts(await nextB)).toEqual(["m2"]);
  });

  it("of an ordered group is woken when another subscription's ack releases the key it waits behind", async () => {
    const { broker } = await open();
    await publish(broker, 2, "k");
    const a = await broker.groups.subscribe({ topic: "t", group: "g", maxInFlight: 10, settings: { ordered: true } });
    const first = (await a.next())!;
    expect(texts(first)).toEqual(["m0"]);
    const b = await broker.groups.subscribe({ topic: "t", group: "g", maxInFlight: 10 });
    const nextB = b.next();
    expect(await settled(nextB)).toBe(false);
    a.ack(positions(first));
    expect(texts(await nextB)).toEqual(["m1"]);
  });
});
