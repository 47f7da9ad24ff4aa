import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BrokerProcess, cleanupBrokerProcesses } from "../helpers/broker-process.js";
import { AdminService, BrokerService, call, connect, type Clients, expectCode } from "../helpers/grpc-clients.js";
import type { Delivery } from "../../gen/sluice/v1/broker_pb.js";
import { TestSubscriber, positions } from "../helpers/test-subscriber.js";

// Every configurable cap, through the command line, just under and just over.
// --max-pending-bytes is measured in slow-consumer.test.ts.

const LIMITS = {
  topics: 20,
  partitions: 8,
  messageBytes: 1000,
  requestBytes: 8192,
  inFlight: 50,
  streams: 5,
  groupInFlight: 30,
};

let p: BrokerProcess;
beforeAll(async () => {
  p = await BrokerProcess.start({
    args: [
      ["--max-topics", LIMITS.topics],
      ["--max-partitions", LIMITS.partitions],
      ["--max-message-bytes", LIMITS.messageBytes],
      ["--max-request-bytes", LIMITS.requestBytes],
      ["--max-in-flight", LIMITS.inFlight],
      ["--max-streams-per-connection", LIMITS.streams],
      ["--max-group-in-flight", LIMITS.groupInFlight],
    ].flatMap(([flag, n]) => [String(flag), String(n)]),
  });
});
afterAll(async () => {
  await cleanupBrokerProcesses();
});

const enc = new TextEncoder();
const admin = () => p.clients.admin;
const broker = () => p.clients.broker;
let topics = 0;
async function topic(partitions = 1): Promise<string> {
  const name = `t${topics++}`;
  await call(admin(), AdminService.method.createTopic, { name, partitions });
  return name;
}
const payload = (n: number) => enc.encode("x".repeat(n));

async function expectStatus(promise: Promise<unknown>, code: status, pattern: RegExp): Promise<void> {
  const err = await expectCode(promise, code);
  expect(err.details).toMatch(pattern);
}

describe("limits, each just under and just over", () => {
  it("--max-partitions: a topic of exactly the limit is created, one more is INVALID_ARGUMENT naming it", async () => {
    await topic(LIMITS.partitions);
    await expectStatus(call(admin(), AdminService.method.createTopic, { name: "too-wide", partitions: LIMITS.partitions + 1 }), status.INVALID_ARGUMENT, /--max-partitions/);
  });

  it("--max-message-bytes: a message of exactly the limit is stored, one byte more is INVALID_ARGUMENT naming it", async () => {
    const name = await topic();
    await call(broker(), BrokerService.method.publish, { topic: name, messages: [{ payload: payload(LIMITS.messageBytes) }] });
    await expectStatus(
      call(broker(), BrokerService.method.publish, { topic: name, messages: [{ payload: payload(LIMITS.messageBytes + 1) }] }),
      status.INVALID_ARGUMENT,
      /--max-message-bytes/,
    );
  });

  it("--max-request-bytes: a request just under it is stored, one over is RESOURCE_EXHAUSTED with the limit in the message", async () => {
    const name = await topic();
    const messages = (n: number) => Array.from({ length: n }, () => ({ payload: payload(900) }));
    await call(broker(), BrokerService.method.publish, { topic: name, messages: messages(8) }); // ~7.3 KB
    await expectStatus(call(broker(), BrokerService.method.publish, { topic: name, messages: messages(10) }), status.RESOURCE_EXHAUSTED, new RegExp(`${LIMITS.requestBytes}`));
  });

  it("--max-in-flight: a stream may ask for exactly the limit, one more is INVALID_ARGUMENT naming it", async () => {
    const name = await topic();
    const ok = new TestSubscriber(p.clients, { topic: name, group: "g", maxInFlight: LIMITS.inFlight });
    await ok.opened();
    const over = new TestSubscriber(p.clients, { topic: name, group: "g", maxInFlight: LIMITS.inFlight + 1 });
    await over.closed();
    expect(over.error?.code).toBe(status.INVALID_ARGUMENT);
    expect(over.error?.details).toMatch(/--max-in-flight/);
    ok.end();
    await ok.closed();
  });

  it("--max-streams-per-connection: one more stream than the limit on a connection is RESOURCE_EXHAUSTED naming it; unary calls and other connections are unaffected; a closed stream frees its place", async () => {
    const name = await topic();
    const conn: Clients = connect(p.address, { ownConnection: true });
    try {
      const open = { topic: name, group: "streams", maxInFlight: 10 };
      const subs = Array.from({ length: LIMITS.streams }, () => new TestSubscriber(conn, open));
      await Promise.all(subs.map((s) => s.opened()));
      const over = new TestSubscriber(conn, open);
      await over.closed();
      expect(over.error?.code).toBe(status.RESOURCE_EXHAUSTED);
      expect(over.error?.details).toMatch(/--max-streams-per-connection is 5/);
      // PublishStream counts too.
      const ps = (conn.broker as unknown as { publishStream: () => import("@grpc/grpc-js").ClientDuplexStream<unknown, unknown> }).publishStream();
      const psStatus = await new Promise<{ code: number; details: string }>((resolve) => {
        ps.on("status", resolve);
        ps.on("error", () => undefined);
        ps.on("data", () => undefined);
      });
      expect(psStatus.code).toBe(status.RESOURCE_EXHAUSTED);
      // Unary calls on the same connection go through.
      await call(conn.broker, BrokerService.method.publish, { topic: name, messages: [{ payload: payload(1) }] });
      // Another connection has its own allowance.
      const other = new TestSubscriber(p.clients, open);
      await other.opened();
      // Ending one stream frees a place.
      subs[0]!.end();
      await subs[0]!.closed();
      const again = new TestSubscriber(conn, open);
      await again.opened();
      for (const s of [...subs.slice(1), other, again]) s.cancel();
    } finally {
      conn.close();
    }
  });

  it("--max-group-in-flight: the group's streams together hold at most the limit; Fetch at the limit is RESOURCE_EXHAUSTED naming it; an ack makes room", async () => {
    const name = await topic();
    await call(broker(), BrokerService.method.publish, { topic: name, messages: Array.from({ length: 100 }, () => ({ payload: payload(1) })) });
    const a = new TestSubscriber(p.clients, { topic: name, group: "capped", maxInFlight: 20 });
    const b = new TestSubscriber(p.clients, { topic: name, group: "capped", maxInFlight: 20 });
    await Promise.all([a.opened(), b.opened()]);
    const taken: Delivery[] = [];
    /** Collects deliveries from both streams until there are `n`. */
    const untilTotal = async (n: number) => {
      while (taken.length < n) {
        await Promise.race([a.ready(), b.ready()]);
        for (const s of [a, b]) if (s.untaken > 0) taken.push(...(await s.take(s.untaken)));
      }
    };
    await untilTotal(LIMITS.groupInFlight);
    const g = await call(admin(), AdminService.method.getGroup, { topic: name, group: "capped" });
    expect(g.group!.partitions[0]!.inFlight).toBe(LIMITS.groupInFlight);
    expect(taken).toHaveLength(LIMITS.groupInFlight);
    await expectStatus(
      call(broker(), BrokerService.method.fetch, { topic: name, group: "capped", maxMessages: 1 }),
      status.RESOURCE_EXHAUSTED,
      /--max-group-in-flight is 30/,
    );
    const first = a.deliveries.length > 0 ? a : b;
    first.ack(positions(first.deliveries.slice(0, 10)));
    await untilTotal(LIMITS.groupInFlight + 10);
    const after = await call(admin(), AdminService.method.getGroup, { topic: name, group: "capped" });
    expect(after.group!.partitions[0]!.inFlight).toBe(LIMITS.groupInFlight);
    a.cancel();
    b.cancel();
  });

  it("--max-topics: the broker holds exactly the limit, one more is RESOURCE_EXHAUSTED naming it", async () => {
    while (topics < LIMITS.topics) await topic();
    await expectStatus(call(admin(), AdminService.method.createTopic, { name: "one-too-many" }), status.RESOURCE_EXHAUSTED, /--max-topics/);
    const list = await call(admin(), AdminService.method.listTopics, { pageSize: 1000 });
    expect(list.topics).toHaveLength(LIMITS.topics);
  });
});
