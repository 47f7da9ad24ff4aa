import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AdminService, BrokerService, call } from "../helpers/grpc-clients.js";
import { InProcessBroker } from "../helpers/in-process-broker.js";
import { positions, TestSubscriber } from "../helpers/test-subscriber.js";

const enc = new TextEncoder();
const dec = new TextDecoder();

let b: InProcessBroker;
beforeEach(async () => {
  b = await InProcessBroker.start();
});
afterEach(async () => {
  await b.stop();
});

async function topic(name: string, partitions = 1) {
  await call(b.clients.admin, AdminService.method.createTopic, { name, partitions });
}

async function publish(name: string, payloads: string[], extra: { key?: string; partition?: number } = {}) {
  const res = await call(b.clients.broker, BrokerService.method.publish, {
    topic: name,
    messages: payloads.map((p) => ({ payload: enc.encode(p), ...extra })),
  });
  return res.results;
}

describe("publish and consume through a group", () => {
  it("delivers published messages in order with attempt 1 and all their fields", async () => {
    await topic("orders");
    const res = await call(b.clients.broker, BrokerService.method.publish, {
      topic: "orders",
      messages: [
        { payload: enc.encode("a"), key: "k1", headers: { h: "v" }, messageId: "m1" },
        { payload: enc.encode("b") },
      ],
    });
    expect(res.results.map((r) => r.offset)).toEqual([0n, 1n]);

    const sub = new TestSubscriber(b.clients, { topic: "orders", group: "g" });
    const opened = await sub.opened();
    expect(opened.partitions).toBe(1);
    const ds = await sub.take(2);
    expect(ds.map((d) => dec.decode(d.message!.payload))).toEqual(["a", "b"]);
    expect(ds.map((d) => d.attempt)).toEqual([1, 1]);
    const m = ds[0]!.message!;
    expect(m.topic).toBe("orders");
    expect(m.key).toBe("k1");
    expect(m.headers).toEqual({ h: "v" });
    expect(m.messageId).toBe("m1");
    expect(m.publishTime).toBeDefined();
    sub.ack(positions(ds));
    sub.end();
    await sub.closed();
  });

  it("wakes a caught-up subscriber when a message is published", async () => {
    await topic("live");
    const sub = new TestSubscriber(b.clients, { topic: "live", group: "g" });
    await sub.opened();
    await publish("live", ["x"]);
    const [d] = await sub.take(1);
    expect(dec.decode(d!.message!.payload)).toBe("x");
    sub.end();
  });

  it("moves the committed offset when messages are acknowledged", async () => {
    await topic("acks");
    await publish("acks", ["1", "2", "3"]);
    const sub = new TestSubscriber(b.clients, { topic: "acks", group: "g" });
    const ds = await sub.take(3);
    sub.ack(positions(ds));
    // GetGroup reflects acks once the broker processed them: poll the admin view.
    let committed = 0n;
    for (let i = 0; i < 200 && committed !== 3n; i++) {
      const g = await call(b.clients.admin, AdminService.method.getGroup, { topic: "acks", group: "g" });
      committed = g.group!.partitions[0]!.committedOffset;
    }
    expect(committed).toBe(3n);
    sub.end();
  });
});
