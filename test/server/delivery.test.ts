import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AdminService, BrokerService, call } from "../helpers/grpc-clients.js";
import { InProcessBroker } from "../helpers/in-process-broker.js";
import { type Pos, positions, TestSubscriber } from "../helpers/test-subscriber.js";

const enc = new TextEncoder();

let b: InProcessBroker;
beforeEach(async () => {
  b = await InProcessBroker.start();
});
afterEach(async () => {
  await b.stop();
});

async function setup(name: string, count: number, partitions = 1, ackDeadlineSeconds?: number) {
  await call(b.clients.admin, AdminService.method.createTopic, { name, partitions });
  if (ackDeadlineSeconds !== undefined) {
    await call(b.clients.admin, AdminService.method.createGroup, {
      topic: name,
      group: "g",
      settings: { ackDeadline: { seconds: BigInt(ackDeadlineSeconds) } },
    });
  }
  if (count > 0) {
    await call(b.clients.broker, BrokerService.method.publish, {
      topic: name,
      messages: Array.from({ length: count }, (_, i) => ({ payload: enc.encode(`m${i}`) })),
    });
  }
}

const key = (p: Pos) => `${p.partition}/${p.offset}`;

async function groupState(topic: string, group = "g") {
  return (await call(b.clients.admin, AdminService.method.getGroup, { topic, group })).group!;
}

/** Polls GetGroup until `pred` holds (acks are applied asynchronously to the stream). */
async function waitForGroup(topic: string, pred: (g: Awaited<ReturnType<typeof groupState>>) => boolean) {
  for (let i = 0; i < 500; i++) {
    const g = await groupState(topic);
    if (pred(g)) return g;
  }
  throw new Error("group never reached the expected state");
}

describe("consumer groups", () => {
  it("gives every group all messages, independently", async () => {
    await setup("t", 50, 3);
    const a = new TestSubscriber(b.clients, { topic: "t", group: "a" });
    const c = new TestSubscriber(b.clients, { topic: "t", group: "c" });
    const da = await a.take(50);
    const dc = await c.take(50);
    expect(new Set(positions(da).map(key)).size).toBe(50);
    expect(new Set(positions(dc).map(key))).toEqual(new Set(positions(da).map(key)));
    a.end();
    c.end();
  });

  it("shares messages between two streams of one group, never leasing one message to both", async () => {
    await setup("t", 0, 2);
    const s1 = new TestSubscriber(b.clients, { topic: "t", group: "g", maxInFlight: 10 });
    const s2 = new TestSubscriber(b.clients, { topic: "t", group: "g", maxInFlight: 10 });
    await Promise.all([s1.opened(), s2.opened()]);
    await call(b.clients.broker, BrokerService.method.publish, {
      topic: "t",
      messages: Array.from({ length: 20 }, (_, i) => ({ payload: enc.encode(`m${i}`) })),
    });
    // 20 messages, 10 credits each: both streams must fill up, with disjoint messages.
    const d1 = await s1.take(10);
    const d2 = await s2.take(10);
    const k1 = new Set(positions(d1).map(key));
    const k2 = new Set(positions(d2).map(key));
    expect(k1.size).toBe(10);
    expect(k2.size).toBe(10);
    for (const k of k1) expect(k2.has(k)).toBe(false);
    s1.end();
    s2.end();
  });

  it("never gives a stream more than max_in_flight unacknowledged messages", async () => {
    await setup("t", 30);
    const s = new TestSubscriber(b.clients, { topic: "t", group: "g", maxInFlight: 5 });
    const first = await s.take(5);
    // The broker holds the rest back: GetGroup shows 5 in flight, and nothing more arrives.
    const g = await groupState("t");
    expect(g.partitions[0]!.inFlight).toBe(5);
    expect(g.consumers[0]!.inFlight).toBe(5);
    expect(s.untaken).toBe(0);
    s.ack(positions(first.slice(0, 2)));
    const next = await s.take(2);
    expect(next.map((d) => d.message!.offset)).toEqual([5n, 6n]);
    expect(s.untaken).toBe(0);
    s.end();
  });
});

describe("redelivery", () => {
  it("redelivers a message not acknowledged within the ack deadline, with attempt 2", async () => {
    await setup("t", 1, 1, 1);
    const s = new TestSubscriber(b.clients, { topic: "t", group: "g" });
    const [first] = await s.take(1);
    expect(first!.attempt).toBe(1);
    const [again] = await s.take(1, 5000);
    expect(again!.message!.offset).toBe(first!.message!.offset);
    expect(again!.attempt).toBe(2);
    s.end();
  });

  it("keeps an extended message from being redelivered until the new deadline", async () => {
    await setup("t", 2, 1, 1);
    const s = new TestSubscriber(b.clients, { topic: "t", group: "g" });
    const [m0, m1] = await s.take(2);
    s.extend(positions([m0!]), 4000);
    // m1 expires after ~1 s and comes back; m0 must not come back with it.
    const [again] = await s.take(1, 5000);
    expect(again!.message!.offset).toBe(m1!.message!.offset);
    expect(again!.attempt).toBe(2);
    s.ack(positions([again!]));
    const [later] = await s.take(1, 8000);
    expect(later!.message!.offset).toBe(m0!.message!.offset);
    expect(later!.attempt).toBe(2);
    s.end();
  });

  it("redelivers a nacked message at once, with attempt 2", async () => {
    await setup("t", 1);
    const s = new TestSubscriber(b.clients, { topic: "t", group: "g" });
    const [first] = await s.take(1);
    s.nack(positions([first!]));
    const [again] = await s.take(1);
    expect(again!.message!.offset).toBe(0n);
    expect(again!.attempt).toBe(2);
    s.end();
  });

  it("redelivers a message nacked with a delay only after the other work, and not counted in flight", async () => {
    await setup("t", 2);
    const s = new TestSubscriber(b.clients, { topic: "t", group: "g", maxInFlight: 1 });
    const [m0] = await s.take(1);
    s.nack(positions([m0!]), 1500);
    // The delayed message frees its slot: the next message comes first.
    const [m1] = await s.take(1);
    expect(m1!.message!.offset).toBe(1n);
    const g = await groupState("t");
    expect(g.partitions[0]!.pendingRedelivery).toBe(1);
    s.ack(positions([m1!]));
    const [again] = await s.take(1, 5000);
    expect(again!.message!.offset).toBe(0n);
    expect(again!.attempt).toBe(2);
    s.end();
  });

  it("gives a closed stream's unacknowledged messages to the rest of the group at once", async () => {
    await setup("t", 4);
    const s1 = new TestSubscriber(b.clients, { topic: "t", group: "g" });
    const got = await s1.take(4);
    s1.ack(positions(got.slice(0, 1)));
    const s2 = new TestSubscriber(b.clients, { topic: "t", group: "g" });
    await s2.opened();
    s1.end();
    await s1.closed();
    const again = await s2.take(3);
    expect(again.map((d) => d.message!.offset).sort()).toEqual([1n, 2n, 3n]);
    expect(again.every((d) => d.attempt === 2)).toBe(true);
    s2.end();
  });

  it("releases the messages of a cancelled stream too", async () => {
    await setup("t", 2);
    const s1 = new TestSubscriber(b.clients, { topic: "t", group: "g" });
    await s1.take(2);
    s1.cancel();
    await s1.closed();
    const s2 = new TestSubscriber(b.clients, { topic: "t", group: "g" });
    const again = await s2.take(2);
    expect(again.map((d) => d.attempt)).toEqual([2, 2]);
    s2.end();
  });

  it("does not redeliver acknowledged messages, and counts acks of positions never delivered", async () => {
    await setup("t", 3, 1, 1);
    const s = new TestSubscriber(b.clients, { topic: "t", group: "g" });
    const ds = await s.take(3);
    s.ack([...positions(ds), { partition: 0, offset: 99n }, { partition: 7, offset: 0n }]);
    const g = await waitForGroup("t", (g) => g.partitions[0]!.committedOffset === 3n);
    expect(g.ignoredAcks).toBe(2n);
    expect(g.partitions[0]!.lag).toBe(0n);
    // A late publish is the next thing delivered, not a redelivery of 0..2.
    await call(b.clients.broker, BrokerService.method.publish, { topic: "t", messages: [{ payload: enc.encode("late") }] });
    const [next] = await s.take(1, 3000);
    expect(next!.message!.offset).toBe(3n);
    expect(next!.attempt).toBe(1);
    s.end();
  });
});

describe("restart", () => {
  it("keeps offsets and acks, including acks above an unacknowledged message", async () => {
    await setup("t", 6);
    const s = new TestSubscriber(b.clients, { topic: "t", group: "g" });
    const ds = await s.take(6);
    // Ack all but offset 2: committed stays at 2, 3..5 are acked above it.
    s.ack(positions(ds.filter((d) => d.message!.offset !== 2n)));
    await waitForGroup("t", (g) => g.partitions[0]!.ackedAboveCommitted === 3n);
    s.end();
    await s.closed();
    await b.restart();
    const g = await groupState("t");
    expect(g.partitions[0]!.committedOffset).toBe(2n);
    expect(g.partitions[0]!.ackedAboveCommitted).toBe(3n);
    const s2 = new TestSubscriber(b.clients, { topic: "t", group: "g" });
    const [only] = await s2.take(1);
    expect(only!.message!.offset).toBe(2n);
    await call(b.clients.broker, BrokerService.method.publish, { topic: "t", messages: [{ payload: enc.encode("n") }] });
    const [next] = await s2.take(1);
    expect(next!.message!.offset).toBe(6n);
    s2.end();
  });
});

describe("partitioning", () => {
  it("sends messages with one key to one partition, chosen by FNV-1a", async () => {
    await setup("t", 0, 8);
    const res = await call(b.clients.broker, BrokerService.method.publish, {
      topic: "t",
      messages: Array.from({ length: 10 }, () => ({ key: "customer-42", payload: enc.encode("x") })),
    });
    const parts = new Set(res.results.map((r) => r.partition));
    expect(parts.size).toBe(1);
    // fnv1a32("customer-42") = 0x2b7d6f3c... computed independently below.
    let h = 0x811c9dc5;
    for (const c of enc.encode("customer-42")) h = Math.imul(h ^ c, 0x01000193) >>> 0;
    expect([...parts][0]).toBe(h % 8);
    expect(res.results.map((r) => r.offset)).toEqual(Array.from({ length: 10 }, (_, i) => BigInt(i)));
  });

  it("spreads messages without key or partition over all partitions", async () => {
    await setup("t", 0, 4);
    const res = await call(b.clients.broker, BrokerService.method.publish, {
      topic: "t",
      messages: Array.from({ length: 8 }, () => ({ payload: enc.encode("x") })),
    });
    expect(new Set(res.results.map((r) => r.partition))).toEqual(new Set([0, 1, 2, 3]));
  });
});
