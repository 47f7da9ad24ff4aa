import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { status } from "@grpc/grpc-js";
import type { Delivery } from "../../gen/sluice/v1/broker_pb.js";
import { StartPosition_Kind } from "../../gen/sluice/v1/message_pb.js";
import { AdminService, BrokerService, call, expectCode } from "../helpers/grpc-clients.js";
import { InProcessBroker } from "../helpers/in-process-broker.js";
import { positions, TestSubscriber } from "../helpers/test-subscriber.js";

const enc = new TextEncoder();
const dec = new TextDecoder();
const sec = (s: number) => ({ seconds: BigInt(Math.floor(s)), nanos: Math.round((s % 1) * 1e9) });
const text = (d: Delivery) => dec.decode(d.message!.payload);

let b: InProcessBroker;
beforeEach(async () => {
  b = await InProcessBroker.start();
});
afterEach(async () => {
  await b.stop();
});

async function publish(topic: string, msgs: Array<{ key?: string; text: string }>) {
  const res = await call(b.clients.broker, BrokerService.method.publish, {
    topic,
    messages: msgs.map((m) => ({ key: m.key ?? "", payload: enc.encode(m.text) })),
  });
  return res.results;
}

async function groupState(topic: string, group = "g") {
  return (await call(b.clients.admin, AdminService.method.getGroup, { topic, group })).group!;
}

/** Polls an admin view until `ok` holds; the broker applies stream acks asynchronously. */
async function until<T>(what: string, get: () => Promise<T>, ok: (v: T) => boolean): Promise<T> {
  for (let i = 0; i < 2000; i++) {
    const v = await get();
    if (ok(v)) return v;
  }
  throw new Error(`never reached: ${what}`);
}

describe("ordered groups", () => {
  it("delivers each key in offset order, one at a time, across two streams, and moves keys when a stream leaves", async () => {
    await call(b.clients.admin, AdminService.method.createTopic, { name: "t" });
    await call(b.clients.admin, AdminService.method.createGroup, { topic: "t", group: "g", settings: { ordered: true } });
    const keys = ["a", "b", "c", "d", "e"];
    const total = 100;
    await publish("t", Array.from({ length: total }, (_, i) => ({ key: keys[i % 5]!, text: `${keys[i % 5]}:${Math.floor(i / 5)}` })));
    const s1 = new TestSubscriber(b.clients, { topic: "t", group: "g" });
    const s2 = new TestSubscriber(b.clients, { topic: "t", group: "g" });
    const next = new Map(keys.map((k) => [k, 0]));
    const inFlight = new Set<string>();
    let acked = 0;
    let s2Open = true;
    const handle = (s: TestSubscriber, ds: Delivery[], ack: boolean) => {
      for (const d of ds) {
        const [k, n] = text(d).split(":");
        // Never two unacknowledged messages of one key at once, and never out of order.
        expect(inFlight.has(k!)).toBe(false);
        expect(Number(n)).toBe(next.get(k!));
        if (ack) {
          next.set(k!, Number(n) + 1);
          acked++;
        } else inFlight.add(k!);
      }
      if (ack) s.ack(positions(ds));
    };
    while (acked < total) {
      await Promise.race([s1.ready(), ...(s2Open ? [s2.ready()] : [])]);
      if (s1.untaken > 0) handle(s1, await s1.take(s1.untaken), true);
      if (s2Open && s2.untaken > 0) {
        const ds = await s2.take(s2.untaken);
        if (acked > total / 2) {
          // s2 leaves holding its messages unacknowledged: their keys must move to s1.
          handle(s2, ds, false);
          s2.end();
          await s2.closed();
          s2Open = false;
          inFlight.clear();
        } else handle(s2, ds, true);
      }
    }
    expect([...next.values()]).toEqual(keys.map(() => total / 5));
    const g = await until("all acked", () => groupState("t"), (g) => g.partitions[0]!.committedOffset === BigInt(total));
    expect(g.blockedKeys).toBe(0n);
    s1.end();
  });

  it("shows blocked keys while a key's earlier message is unacknowledged", async () => {
    await call(b.clients.admin, AdminService.method.createTopic, { name: "t" });
    await call(b.clients.admin, AdminService.method.createGroup, { topic: "t", group: "g", settings: { ordered: true } });
    await publish("t", [{ key: "k", text: "1" }, { key: "k", text: "2" }, { text: "free" }]);
    const s = new TestSubscriber(b.clients, { topic: "t", group: "g" });
    const ds = await s.take(2);
    expect(ds.map(text)).toEqual(["1", "free"]);
    const g = await groupState("t");
    expect(g.blockedKeys).toBe(1n);
    expect(g.oldestBlockedKey).toBe("k");
    s.ack(positions(ds.slice(0, 1)));
    const [second] = await s.take(1);
    expect(text(second!)).toBe("2");
    s.end();
  });
});

describe("retry backoff", () => {
  it("waits the configured backoff after a nack without delay, growing with attempts", async () => {
    await call(b.clients.admin, AdminService.method.createTopic, { name: "t" });
    await call(b.clients.admin, AdminService.method.createGroup, {
      topic: "t",
      group: "g",
      settings: { retryBackoff: { min: sec(0.4), max: sec(0.8) } },
    });
    await publish("t", [{ text: "poison" }]);
    const s = new TestSubscriber(b.clients, { topic: "t", group: "g" });
    const [first] = await s.take(1);
    const t0 = Date.now();
    s.nack(positions([first!]), -1);
    const g = await groupState("t");
    // The redelivery is scheduled, not immediate: it waits at least half of min.
    expect(g.partitions[0]!.pendingRedelivery).toBe(1);
    const due1 = Number(g.partitions[0]!.nextRedeliveryTime!.seconds) * 1000 + g.partitions[0]!.nextRedeliveryTime!.nanos / 1e6;
    expect(due1 - t0).toBeGreaterThanOrEqual(150);
    const [second] = await s.take(1, 5000);
    expect(second!.attempt).toBe(2);
    s.nack(positions([second!]), -1);
    const g2 = await groupState("t");
    const t1 = Date.now();
    const due2 = Number(g2.partitions[0]!.nextRedeliveryTime!.seconds) * 1000 + g2.partitions[0]!.nextRedeliveryTime!.nanos / 1e6;
    // Attempt 2 waits between 0.4 and 0.8 s: never less than half of the doubled base.
    expect(due2 - t1).toBeGreaterThanOrEqual(300);
    const [third] = await s.take(1, 5000);
    expect(third!.attempt).toBe(3);
    s.end();
  });
});

describe("dead letters", () => {
  it("dead-letters a poison message after exactly max_deliveries, with headers naming its origin", async () => {
    await call(b.clients.admin, AdminService.method.createTopic, { name: "t" });
    await call(b.clients.admin, AdminService.method.createTopic, { name: "t.dlq" });
    await call(b.clients.admin, AdminService.method.createGroup, {
      topic: "t",
      group: "g",
      settings: { maxDeliveries: 3, deadLetterTopic: "t.dlq" },
    });
    await publish("t", [{ key: "k1", text: "poison" }, { text: "fine" }]);
    const s = new TestSubscriber(b.clients, { topic: "t", group: "g" });
    const attempts: number[] = [];
    for (;;) {
      const ds = await s.take(1);
      const d = ds[0]!;
      if (text(d) === "fine") {
        s.ack(positions(ds));
        continue;
      }
      attempts.push(d.attempt);
      s.nack(positions(ds), 0);
      if (attempts.length === 3) break;
    }
    expect(attempts).toEqual([1, 2, 3]);
    const dlq = new TestSubscriber(b.clients, { topic: "t.dlq", group: "ops" });
    const [dead] = await dlq.take(1);
    expect(text(dead!)).toBe("poison");
    expect(dead!.message!.key).toBe("k1");
    expect(dead!.message!.headers).toMatchObject({
      "sluice-original-topic": "t",
      "sluice-original-partition": "0",
      "sluice-original-offset": "0",
      "sluice-original-group": "g",
      "sluice-attempts": "3",
      "sluice-dead-letter-reason": "nack",
    });
    const g = await until("dead-lettered", () => groupState("t"), (g) => g.partitions[0]!.committedOffset === 2n);
    expect(g.partitions[0]!.deadLettered).toBe(1n);
    // Never delivered a fourth time.
    expect(s.untaken).toBe(0);
    s.end();
    dlq.end();
  });

  it("counts delivery attempts across a restart", async () => {
    await call(b.clients.admin, AdminService.method.createTopic, { name: "t" });
    await call(b.clients.admin, AdminService.method.createTopic, { name: "dlq" });
    await call(b.clients.admin, AdminService.method.createGroup, {
      topic: "t",
      group: "g",
      settings: { maxDeliveries: 2, deadLetterTopic: "dlq" },
    });
    await publish("t", [{ text: "poison" }]);
    const s = new TestSubscriber(b.clients, { topic: "t", group: "g" });
    const [first] = await s.take(1);
    expect(first!.attempt).toBe(1);
    s.end();
    await s.closed();
    await b.restart();
    const s2 = new TestSubscriber(b.clients, { topic: "t", group: "g" });
    const [second] = await s2.take(1);
    expect(second!.attempt).toBe(2);
    s2.nack(positions([second!]), 0);
    const dlq = new TestSubscriber(b.clients, { topic: "dlq", group: "ops" });
    const [dead] = await dlq.take(1);
    expect(dead!.message!.headers["sluice-attempts"]).toBe("2");
    s2.end();
    dlq.end();
  });

  it("drops and counts a message past its limit when no dead-letter topic is set", async () => {
    await call(b.clients.admin, AdminService.method.createTopic, { name: "t" });
    await call(b.clients.admin, AdminService.method.createGroup, { topic: "t", group: "g", settings: { maxDeliveries: 1 } });
    await publish("t", [{ text: "poison" }]);
    const s = new TestSubscriber(b.clients, { topic: "t", group: "g" });
    s.nack(positions(await s.take(1)), 0);
    const g = await until("dropped", () => groupState("t"), (g) => g.partitions[0]!.dropped === 1n);
    expect(g.partitions[0]!.committedOffset).toBe(1n);
    s.end();
  });

  it("refuses a dead-letter topic that does not exist", async () => {
    await call(b.clients.admin, AdminService.method.createTopic, { name: "t" });
    const err = await expectCode(
      call(b.clients.admin, AdminService.method.createGroup, { topic: "t", group: "g", settings: { deadLetterTopic: "nope" } }),
      status.NOT_FOUND,
    );
    expect(err.details).toContain("nope");
  });
});

describe("pull-style access", () => {
  it("leases with Fetch, acknowledges with Ack, and never hands a fetched message to a stream", async () => {
    await call(b.clients.admin, AdminService.method.createTopic, { name: "t" });
    await call(b.clients.admin, AdminService.method.createGroup, { topic: "t", group: "g" });
    await publish("t", Array.from({ length: 10 }, (_, i) => ({ text: `m${i}` })));
    const fetched = await call(b.clients.broker, BrokerService.method.fetch, { topic: "t", group: "g", maxMessages: 4 });
    expect(fetched.deliveries.map(text)).toEqual(["m0", "m1", "m2", "m3"]);
    const s = new TestSubscriber(b.clients, { topic: "t", group: "g" });
    const streamed = await s.take(6);
    expect(streamed.map(text)).toEqual(["m4", "m5", "m6", "m7", "m8", "m9"]);
    const ack = await call(b.clients.broker, BrokerService.method.ack, {
      topic: "t",
      group: "g",
      positions: [...positions(fetched.deliveries), { partition: 0, offset: 99n }],
    });
    expect(ack.acked).toBe(4);
    expect(ack.ignored).toBe(1);
    // The Ack answer means durable: GetGroup already shows it.
    expect((await groupState("t")).partitions[0]!.ackedAboveCommitted + (await groupState("t")).partitions[0]!.committedOffset).toBe(4n);
    s.end();
  });

  it("waits up to max_wait for a message and returns empty when none comes", async () => {
    await call(b.clients.admin, AdminService.method.createTopic, { name: "t" });
    await call(b.clients.admin, AdminService.method.createGroup, { topic: "t", group: "g" });
    const empty = await call(b.clients.broker, BrokerService.method.fetch, { topic: "t", group: "g", maxWait: sec(0.2) });
    expect(empty.deliveries).toEqual([]);
    const pending = call(b.clients.broker, BrokerService.method.fetch, { topic: "t", group: "g", maxWait: sec(10) });
    await publish("t", [{ text: "late" }]);
    expect((await pending).deliveries.map(text)).toEqual(["late"]);
  });

  it("redelivers a fetched message after Nack, and ExtendDeadline keeps its lease", async () => {
    await call(b.clients.admin, AdminService.method.createTopic, { name: "t" });
    await call(b.clients.admin, AdminService.method.createGroup, { topic: "t", group: "g", settings: { ackDeadline: sec(1) } });
    await publish("t", [{ text: "a" }]);
    const f1 = await call(b.clients.broker, BrokerService.method.fetch, { topic: "t", group: "g" });
    await call(b.clients.broker, BrokerService.method.nack, { topic: "t", group: "g", positions: positions(f1.deliveries), delay: sec(0) });
    const f2 = await call(b.clients.broker, BrokerService.method.fetch, { topic: "t", group: "g", maxWait: sec(2) });
    expect(f2.deliveries[0]!.attempt).toBe(2);
    await call(b.clients.broker, BrokerService.method.extendDeadline, {
      topic: "t",
      group: "g",
      positions: positions(f2.deliveries),
      deadline: sec(30),
    });
    // Past the original 1 s deadline, the extended lease still holds: nothing to fetch.
    const f3 = await call(b.clients.broker, BrokerService.method.fetch, { topic: "t", group: "g", maxWait: sec(1.5) });
    expect(f3.deliveries).toEqual([]);
  });

  it("refuses Fetch on a group that does not exist", async () => {
    await call(b.clients.admin, AdminService.method.createTopic, { name: "t" });
    await expectCode(call(b.clients.broker, BrokerService.method.fetch, { topic: "t", group: "none" }), status.NOT_FOUND);
  });
});

describe("seeking", () => {
  it("moves a group back to an offset and forward to the end, and a connected stream follows", async () => {
    await call(b.clients.admin, AdminService.method.createTopic, { name: "t" });
    await publish("t", Array.from({ length: 5 }, (_, i) => ({ text: `m${i}` })));
    const s = new TestSubscriber(b.clients, { topic: "t", group: "g" });
    s.ack(positions(await s.take(5)));
    await until("acked", () => groupState("t"), (g) => g.partitions[0]!.committedOffset === 5n);
    const sought = await call(b.clients.admin, AdminService.method.seekGroup, {
      topic: "t",
      group: "g",
      offsets: [{ partition: 0, offset: 2n }],
    });
    expect(sought.group!.partitions[0]!.committedOffset).toBe(2n);
    const again = await s.take(3);
    expect(again.map(text)).toEqual(["m2", "m3", "m4"]);
    await call(b.clients.admin, AdminService.method.seekGroup, { topic: "t", group: "g", position: { kind: StartPosition_Kind.LATEST } });
    expect((await groupState("t")).partitions[0]!.inFlight).toBe(0);
    await publish("t", [{ text: "new" }]);
    const [n] = await s.take(1);
    expect(text(n!)).toBe("new");
    s.end();
  });

  it("seeks by timestamp to the first message published at or after it", async () => {
    await call(b.clients.admin, AdminService.method.createTopic, { name: "t" });
    await publish("t", [{ text: "old1" }, { text: "old2" }]);
    const s = new TestSubscriber(b.clients, { topic: "t", group: "g" });
    const old = await s.take(2);
    const lastOld = old[1]!.message!.publishTime!;
    // Publish the second burst strictly later than the first's publish time.
    let later: Delivery | undefined;
    while (later === undefined) {
      await publish("t", [{ text: "new" }]);
      const [d] = await s.take(1);
      const t = d!.message!.publishTime!;
      if (t.seconds > lastOld.seconds || (t.seconds === lastOld.seconds && t.nanos > lastOld.nanos)) later = d;
    }
    await call(b.clients.admin, AdminService.method.seekGroup, {
      topic: "t",
      group: "g",
      position: { kind: StartPosition_Kind.TIMESTAMP, time: later.message!.publishTime },
    });
    const g = await groupState("t");
    expect(g.partitions[0]!.committedOffset).toBe(later.message!.offset);
    s.end();
  });
});

describe("updating a group", () => {
  it("changes settings on a live group and shows them", async () => {
    await call(b.clients.admin, AdminService.method.createTopic, { name: "t" });
    await call(b.clients.admin, AdminService.method.createTopic, { name: "dlq" });
    await call(b.clients.admin, AdminService.method.createGroup, { topic: "t", group: "g" });
    const res = await call(b.clients.admin, AdminService.method.updateGroup, {
      topic: "t",
      group: "g",
      settings: { maxDeliveries: 5, deadLetterTopic: "dlq", ackDeadline: sec(12) },
    });
    const st = res.group!.settings!;
    expect(st.maxDeliveries).toBe(5);
    expect(st.deadLetterTopic).toBe("dlq");
    expect(st.ackDeadline!.seconds).toBe(12n);
    expect(st.ordered).toBe(false);
    await b.restart();
    const g = await groupState("t");
    expect(g.settings!.maxDeliveries).toBe(5);
    expect(g.settings!.ackDeadline!.seconds).toBe(12n);
  });
});

describe("ack confirmations", () => {
  it("confirms each ack once it is durable, listing ignored positions", async () => {
    await call(b.clients.admin, AdminService.method.createTopic, { name: "t" });
    await publish("t", [{ text: "a" }, { text: "b" }]);
    const s = new TestSubscriber(b.clients, { topic: "t", group: "g", ackConfirmations: true });
    const ds = await s.take(2);
    s.send({ request: { case: "ack", value: { positions: [...positions(ds), { partition: 0, offset: 50n }], ackId: 7n } } });
    const c = await s.confirmation();
    expect(c.ackId).toBe(7n);
    expect(c.acked).toBe(2);
    expect(c.ignored.map((p) => p.offset)).toEqual([50n]);
    s.end();
  });
});
