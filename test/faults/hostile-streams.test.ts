import { create } from "@bufbuild/protobuf";
import { status } from "@grpc/grpc-js";
import { afterEach, describe, expect, it } from "vitest";
import { PublishStreamRequestSchema, type PublishStreamResponse } from "../../gen/sluice/v1/broker_pb.js";
import { BrokerProcess, cleanupBrokerProcesses } from "../helpers/broker-process.js";
import { AdminService, BrokerService, call, type Clients, connect } from "../helpers/grpc-clients.js";
import { TestSubscriber, positions } from "../helpers/test-subscriber.js";
import { faultSeed, scale, seededRandom } from "./support/scale.js";
import { TcpProxy } from "./support/tcp-proxy.js";
import { MiB, rssBytes, until } from "./support/wait.js";

// Malformed protobuf bytes on every RPC are covered by test/interop/malformed.test.ts
// and test/server/bad-input.test.ts ("malformed protobuf requests get INVALID_ARGUMENT").

const enc = new TextEncoder();
const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
  await cleanupBrokerProcesses();
});

async function publishN(clients: Clients, topic: string, n: number, partitions = 1): Promise<void> {
  for (let i = 0; i < n; i += 500) {
    const count = Math.min(500, n - i);
    await call(clients.broker, BrokerService.method.publish, {
      topic,
      messages: Array.from({ length: count }, (_, j) => ({ payload: enc.encode(`m${i + j}`), partition: (i + j) % partitions })),
    });
  }
}

const getGroup = (clients: Clients, topic: string, group: string) => call(clients.admin, AdminService.method.getGroup, { topic, group });

describe("streams that clients abandon", () => {
  const STREAMS = scale(1000, 5000);

  it(`releases every lease and consumer of ${STREAMS} Subscribe streams dropped without closing, and memory comes back down`, async () => {
    const p = await BrokerProcess.start();
    await call(p.clients.admin, AdminService.method.createTopic, { name: "many", partitions: 4 });
    await publishN(p.clients, "many", 2000, 4);
    const baseline = await rssBytes(p.child.pid!);

    // Half on plain channels (to be cancelled), half through a proxy (to be cut).
    const proxy = await TcpProxy.start(p.port);
    cleanup.push(() => proxy.close());
    const PER_CHANNEL = 250;
    const channels = Array.from({ length: STREAMS / PER_CHANNEL }, (_, i) => connect(i % 2 === 0 ? p.address : proxy.address));
    cleanup.push(() => channels.forEach((c) => c.close()));
    const subs = Array.from(
      { length: STREAMS },
      (_, i) => new TestSubscriber(channels[Math.floor(i / PER_CHANNEL)]!, { topic: "many", group: "g", maxInFlight: 3 }),
    );
    await Promise.all(subs.map((s) => s.opened()));
    const open = await getGroup(p.clients, "many", "g");
    expect(open.group!.consumers).toHaveLength(STREAMS);
    const leased = open.group!.partitions.reduce((n, x) => n + x.inFlight, 0);
    expect(leased).toBe(Math.min(2000, 3 * STREAMS));
    const peak = await rssBytes(p.child.pid!);

    subs.forEach((s, i) => {
      if (Math.floor(i / PER_CHANNEL) % 2 === 0) s.cancel();
    });
    proxy.cut();
    const after = await until(
      "every abandoned stream to be gone",
      () => getGroup(p.clients, "many", "g"),
      (g) => g.group!.consumers.length === 0 && g.group!.partitions.every((x) => x.inFlight === 0),
      { timeoutMs: 15_000, intervalMs: 200 },
    );
    expect(after.group!.partitions.reduce((n, x) => n + x.lag, 0n)).toBe(2000n);

    // Every message goes to the next consumer; those that were leased come again as attempt 2.
    const next = new TestSubscriber(p.clients, { topic: "many", group: "g", maxInFlight: 5000 });
    const ds = await next.take(2000);
    expect(new Set(ds.map((d) => `${d.message!.partition}/${d.message!.offset}`)).size).toBe(2000);
    expect(ds.filter((d) => d.attempt === 2)).toHaveLength(leased);
    next.end();
    await next.closed();

    const end = await rssBytes(p.child.pid!);
    console.log(
      `[faults] ${STREAMS} abandoned streams: RSS ${(baseline / MiB).toFixed(0)} MiB before, ${(peak / MiB).toFixed(0)} open, ${(end / MiB).toFixed(0)} after`,
    );
    expect(end - baseline).toBeLessThan(128 * MiB);
  });

  it("gives the rest of a batch to the group at once when its stream is half-closed mid-batch", async () => {
    const p = await BrokerProcess.start();
    await call(p.clients.admin, AdminService.method.createTopic, { name: "half" });
    await publishN(p.clients, "half", 100);
    const a = new TestSubscriber(p.clients, { topic: "half", group: "g", maxInFlight: 100, ackConfirmations: true });
    const batch = await a.take(100);
    const b = new TestSubscriber(p.clients, { topic: "half", group: "g", maxInFlight: 100 });
    await b.opened();
    // Ack a tenth, then half-close without a word about the rest.
    a.send({ request: { case: "ack", value: { positions: positions(batch.slice(0, 10)), ackId: 1n } } });
    a.end();
    await a.closed();
    expect(a.error).toBeUndefined();
    const rest = await b.take(90);
    expect(rest.map((d) => d.message!.offset)).toEqual(batch.slice(10).map((d) => d.message!.offset));
    expect(rest.every((d) => d.attempt === 2)).toBe(true);
    const g = await getGroup(p.clients, "half", "g");
    expect(g.group!.consumers.map((c) => c.id)).toEqual([b.subscribed!.consumerId]);
    expect(g.group!.partitions[0]!.committedOffset).toBe(10n);
  });

  it("answers every request of a PublishStream half-closed with 200 requests in flight, then ends it OK", async () => {
    const p = await BrokerProcess.start();
    await call(p.clients.admin, AdminService.method.createTopic, { name: "pubhalf" });
    const stream = (p.clients.broker as unknown as { publishStream: () => import("@grpc/grpc-js").ClientDuplexStream<unknown, PublishStreamResponse> }).publishStream();
    const responses: PublishStreamResponse[] = [];
    stream.on("data", (r: PublishStreamResponse) => responses.push(r));
    const ended = new Promise<{ code: number }>((resolve) => stream.on("status", resolve));
    stream.on("error", () => undefined);
    for (let i = 1; i <= 200; i++) {
      stream.write(create(PublishStreamRequestSchema, { requestId: BigInt(i), topic: "pubhalf", messages: [{ payload: enc.encode(`r${i}`) }] }));
    }
    stream.end();
    expect((await ended).code).toBe(status.OK);
    expect(responses.map((r) => r.requestId)).toEqual(Array.from({ length: 200 }, (_, i) => BigInt(i + 1)));
    expect(responses.every((r) => r.error === undefined)).toBe(true);
    const t = await call(p.clients.admin, AdminService.method.getTopic, { name: "pubhalf" });
    expect(t.topic!.partitions[0]!.endOffset).toBe(200n);
  });
});

describe("acks of positions a client was never given", () => {
  it("are ignored, listed in confirmations and counted, by Subscribe and by unary Ack, and the group carries on", async () => {
    const seed = faultSeed();
    const random = seededRandom(seed);
    const p = await BrokerProcess.start();
    await call(p.clients.admin, AdminService.method.createTopic, { name: "acks", partitions: 3 });
    await publishN(p.clients, "acks", 30, 3);
    const sub = new TestSubscriber(p.clients, { topic: "acks", group: "g", maxInFlight: 10, ackConfirmations: true });
    const mine = await sub.take(10);
    const held = new Set(mine.map((d) => `${d.message!.partition}/${d.message!.offset}`));
    // Positions never leased: partitions that do not exist, offsets past the end,
    // huge values, and real messages not delivered yet (leased to nobody).
    const bogus: Array<{ partition: number; offset: bigint }> = [];
    for (let i = 0; i < 200; i++) {
      const kind = Math.floor(random() * 4);
      const partition = kind === 0 ? 3 + Math.floor(random() * 2 ** 31) : Math.floor(random() * 3);
      const offset =
        kind === 1 ? 2n ** 64n - 1n - BigInt(Math.floor(random() * 1000)) : kind === 2 ? 30n + BigInt(Math.floor(random() * 1e6)) : BigInt(Math.floor(random() * 10));
      if (!held.has(`${partition}/${offset}`)) bogus.push({ partition, offset });
    }
    sub.send({ request: { case: "ack", value: { positions: bogus, ackId: 7n } } });
    const c = await sub.confirmation();
    expect(c.ackId).toBe(7n);
    expect(c.acked).toBe(0);
    expect(c.ignored).toHaveLength(bogus.length);
    // nack and extend of them are ignored too, and so is the unary Ack.
    sub.nack(bogus.slice(0, 50));
    sub.extend(bogus.slice(0, 50), 5000);
    const unary = await call(p.clients.broker, BrokerService.method.ack, { topic: "acks", group: "g", positions: bogus.slice(0, 20) });
    expect(unary).toMatchObject({ acked: 0, ignored: 20 });
    // The real acks still work, and the group goes on to the other messages.
    sub.send({ request: { case: "ack", value: { positions: positions(mine), ackId: 8n } } });
    expect((await sub.confirmation()).acked).toBe(10);
    const more = await sub.take(10);
    expect(more.every((d) => !held.has(`${d.message!.partition}/${d.message!.offset}`))).toBe(true);
    const g = await getGroup(p.clients, "acks", "g");
    expect(g.group!.ignoredAcks).toBe(BigInt(bogus.length + 50 + 50 + 20));
    expect(sub.ended).toBe(false);
  });
});
