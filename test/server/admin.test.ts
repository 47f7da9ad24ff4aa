import { timestampDate, timestampFromMs, timestampMs } from "@bufbuild/protobuf/wkt";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Group } from "../../gen/sluice/v1/admin_pb.js";
import { StartPosition_Kind } from "../../gen/sluice/v1/message_pb.js";
import { AdminService, BrokerService, call, expectCode } from "../helpers/grpc-clients.js";
import { InProcessBroker } from "../helpers/in-process-broker.js";
import { positions, TestSubscriber } from "../helpers/test-subscriber.js";

const enc = new TextEncoder();
const dec = new TextDecoder();
const SEVEN_DAYS_S = 7n * 24n * 3600n;
const NOT_FOUND = 5;

let b: InProcessBroker;
beforeEach(async () => {
  b = await InProcessBroker.start();
});
afterEach(async () => {
  await b.stop();
});

const admin = () => b.clients.admin;

async function createTopic(name: string, partitions = 1) {
  return (await call(admin(), AdminService.method.createTopic, { name, partitions })).topic!;
}

async function getTopic(name: string) {
  return (await call(admin(), AdminService.method.getTopic, { name })).topic!;
}

/** Publishes one message per payload; `partition` pins them all to one partition. */
async function publish(topic: string, payloads: string[], partition?: number) {
  const res = await call(b.clients.broker, BrokerService.method.publish, {
    topic,
    messages: payloads.map((p) => ({ payload: enc.encode(p), partition })),
  });
  return res.results;
}

async function getGroup(topic: string, group: string): Promise<Group> {
  return (await call(admin(), AdminService.method.getGroup, { topic, group })).group!;
}

/** Polls GetGroup until `pred` holds: acks reach the group asynchronously to the stream. */
async function waitForGroup(topic: string, group: string, pred: (g: Group) => boolean): Promise<Group> {
  let last: Group | undefined;
  for (let i = 0; i < 500; i++) {
    last = await getGroup(topic, group);
    if (pred(last)) return last;
  }
  throw new Error(`group ${group} never reached the expected state: ${JSON.stringify(last, (_, v) => (typeof v === "bigint" ? `${v}` : v))}`);
}

const committed = (g: Group) => g.partitions.map((p) => p.committedOffset);
const payloads = (ds: Awaited<ReturnType<TestSubscriber["take"]>>) => ds.map((d) => dec.decode(d.message!.payload));

describe("topics", () => {
  it("creates a topic with one partition and a 7-day retention by default", async () => {
    const before = Date.now();
    const created = await call(admin(), AdminService.method.createTopic, { name: "t" });
    const t = created.topic!;
    expect(t.name).toBe("t");
    expect(t.partitionCount).toBe(1);
    expect(t.retention!.maxAge!.seconds).toBe(SEVEN_DAYS_S);
    expect(t.retention!.maxBytes).toBe(0n);
    const createdAt = timestampMs(t.createTime!);
    expect(createdAt).toBeGreaterThanOrEqual(before - 1);
    expect(createdAt).toBeLessThanOrEqual(Date.now() + 1);

    const got = await getTopic("t");
    expect(got.partitionCount).toBe(1);
    expect(got.retention!.maxAge!.seconds).toBe(SEVEN_DAYS_S);
    expect(got.createTime).toEqual(t.createTime);
    expect(got.partitions.map((p) => [p.partition, p.startOffset, p.endOffset])).toEqual([[0, 0n, 0n]]);
  });

  it("keeps the retention a topic was created with", async () => {
    const t = (
      await call(admin(), AdminService.method.createTopic, {
        name: "r",
        partitions: 2,
        retention: { maxAge: { seconds: 3600n }, maxBytes: 1n << 30n },
      })
    ).topic!;
    expect(t.retention!.maxAge!.seconds).toBe(3600n);
    expect(t.retention!.maxBytes).toBe(1n << 30n);
    const got = await getTopic("r");
    expect(got.retention!.maxAge!.seconds).toBe(3600n);
    expect(got.retention!.maxBytes).toBe(1n << 30n);
  });

  it("reports each partition's start and end offsets after publishing", async () => {
    await createTopic("t", 3);
    await publish("t", ["a", "b"], 0);
    await publish("t", ["c", "d", "e", "f", "g"], 2);
    const t = await getTopic("t");
    expect(t.partitionCount).toBe(3);
    expect(t.partitions.map((p) => ({ partition: p.partition, start: p.startOffset, end: p.endOffset }))).toEqual([
      { partition: 0, start: 0n, end: 2n },
      { partition: 1, start: 0n, end: 0n },
      { partition: 2, start: 0n, end: 5n },
    ]);
  });

  it("pages through 250 topics in name order, 100 at a time, ending with an empty token", async () => {
    const names = Array.from({ length: 250 }, (_, i) => `topic-${String(i).padStart(3, "0")}`);
    // Created out of order, so the listing has to sort.
    const shuffled = [...names].sort((x, y) => (x.split("").reverse().join("") < y.split("").reverse().join("") ? -1 : 1));
    for (let i = 0; i < shuffled.length; i += 25) {
      await Promise.all(shuffled.slice(i, i + 25).map((n) => createTopic(n, 2)));
    }

    const pages: string[][] = [];
    let token = "";
    do {
      const res = await call(admin(), AdminService.method.listTopics, { pageSize: 100, pageToken: token });
      pages.push(res.topics.map((t) => t.name));
      for (const t of res.topics) {
        expect(t.partitionCount).toBe(2);
        expect(t.partitions).toEqual([]); // details only from GetTopic
      }
      token = res.nextPageToken;
      expect(pages.length).toBeLessThanOrEqual(3);
    } while (token !== "");

    expect(pages.map((p) => p.length)).toEqual([100, 100, 50]);
    const all = pages.flat();
    expect(all).toEqual(names);
    expect(new Set(all).size).toBe(250);
  });

  it("lists 100 topics per page when page_size is zero", async () => {
    for (let i = 0; i < 101; i += 1) await createTopic(`t${String(i).padStart(3, "0")}`);
    const first = await call(admin(), AdminService.method.listTopics, {});
    expect(first.topics).toHaveLength(100);
    expect(first.nextPageToken).not.toBe("");
    const second = await call(admin(), AdminService.method.listTopics, { pageToken: first.nextPageToken });
    expect(second.topics.map((t) => t.name)).toEqual(["t100"]);
    expect(second.nextPageToken).toBe("");
  });

  it("lists no topics, with an empty token, on an empty broker", async () => {
    const res = await call(admin(), AdminService.method.listTopics, { pageSize: 10 });
    expect(res.topics).toEqual([]);
    expect(res.nextPageToken).toBe("");
  });

  it("re-creates a deleted topic empty: offsets from 0, no old messages, no old groups", async () => {
    await createTopic("t");
    await publish("t", ["old-0", "old-1", "old-2"]);
    const old = new TestSubscriber(b.clients, { topic: "t", group: "g" });
    old.ack(positions(await old.take(2)));
    await waitForGroup("t", "g", (g) => g.partitions[0]!.committedOffset === 2n);
    old.end();
    await old.closed();

    await call(admin(), AdminService.method.deleteTopic, { name: "t" });
    await expectCode(call(admin(), AdminService.method.getTopic, { name: "t" }), NOT_FOUND);
    await createTopic("t");

    const fresh = await getTopic("t");
    expect(fresh.partitions.map((p) => [p.startOffset, p.endOffset])).toEqual([[0n, 0n]]);
    expect((await call(admin(), AdminService.method.listGroups, { topic: "t" })).groups).toEqual([]);
    await expectCode(call(admin(), AdminService.method.getGroup, { topic: "t", group: "g" }), NOT_FOUND);

    const [r] = await publish("t", ["new-0"]);
    expect(r!.offset).toBe(0n);
    const sub = new TestSubscriber(b.clients, { topic: "t", group: "g" });
    const ds = await sub.take(1);
    expect(payloads(ds)).toEqual(["new-0"]);
    expect(ds[0]!.message!.offset).toBe(0n);
    expect(ds[0]!.attempt).toBe(1);
    // Everything of the group is acked: nothing old can be waiting behind it.
    sub.ack(positions(ds));
    const g = await waitForGroup("t", "g", (g) => g.partitions[0]!.committedOffset === 1n);
    expect(g.partitions[0]!.lag).toBe(0n);
    expect(sub.untaken).toBe(0);
    sub.end();
    await sub.closed();
  });
});

describe("group start positions", () => {
  it("starts a group at the earliest message when no start position is given", async () => {
    await createTopic("t", 2);
    await publish("t", ["a", "b"], 0);
    await publish("t", ["c"], 1);
    const created = (await call(admin(), AdminService.method.createGroup, { topic: "t", group: "g" })).group!;
    expect(committed(created)).toEqual([0n, 0n]);
    expect(created.settings!.ackDeadline!.seconds).toBe(30n);
    expect(created.partitions.map((p) => p.lag)).toEqual([2n, 1n]);
    const sub = new TestSubscriber(b.clients, { topic: "t", group: "g" });
    expect(payloads(await sub.take(3)).sort()).toEqual(["a", "b", "c"]);
    sub.end();
    await sub.closed();
  });

  it("starts a KIND_EARLIEST group at the first message", async () => {
    await createTopic("t");
    await publish("t", ["a", "b"]);
    const g = (
      await call(admin(), AdminService.method.createGroup, {
        topic: "t",
        group: "g",
        start: { kind: StartPosition_Kind.EARLIEST },
      })
    ).group!;
    expect(committed(g)).toEqual([0n]);
  });

  it("starts a KIND_LATEST group after the messages already published", async () => {
    await createTopic("t", 2);
    await publish("t", ["a", "b"], 0);
    await publish("t", ["c"], 1);
    const g = (
      await call(admin(), AdminService.method.createGroup, { topic: "t", group: "g", start: { kind: StartPosition_Kind.LATEST } })
    ).group!;
    expect(committed(g)).toEqual([2n, 1n]);
    expect(g.partitions.map((p) => p.lag)).toEqual([0n, 0n]);
    await publish("t", ["after"], 1);
    const sub = new TestSubscriber(b.clients, { topic: "t", group: "g" });
    const ds = await sub.take(1);
    expect(payloads(ds)).toEqual(["after"]);
    expect(ds[0]!.message!.offset).toBe(1n);
    sub.end();
    await sub.closed();
  });

  it("starts a KIND_OFFSET group at the offset, clamped to each partition's end", async () => {
    await createTopic("t", 2);
    await publish("t", ["a0", "a1", "a2", "a3", "a4"], 0);
    await publish("t", ["b0"], 1);
    const g = (
      await call(admin(), AdminService.method.createGroup, {
        topic: "t",
        group: "g",
        start: { kind: StartPosition_Kind.OFFSET, offset: 2n },
      })
    ).group!;
    expect(committed(g)).toEqual([2n, 1n]);
    const far = (
      await call(admin(), AdminService.method.createGroup, {
        topic: "t",
        group: "far",
        start: { kind: StartPosition_Kind.OFFSET, offset: 1000n },
      })
    ).group!;
    expect(committed(far)).toEqual([5n, 1n]);

    const sub = new TestSubscriber(b.clients, { topic: "t", group: "g" });
    expect(payloads(await sub.take(3))).toEqual(["a2", "a3", "a4"]);
    sub.end();
    await sub.closed();
  });

  it("starts a KIND_TIMESTAMP group at the first message published at or after the time", async () => {
    await createTopic("t", 2);
    const probe = new TestSubscriber(b.clients, { topic: "t", group: "probe" });
    await publish("t", ["1-p0-a", "1-p0-b", "1-p0-c"], 0);
    await publish("t", ["1-p1-a", "1-p1-b"], 1);
    const burst1 = await probe.take(5);
    const lastOfBurst1 = Math.max(...burst1.map((d) => timestampMs(d.message!.publishTime!)));
    // Publish times have millisecond resolution: let the clock pass the first
    // burst so the bursts are told apart (a wait on the clock, not on the broker).
    while (Date.now() <= lastOfBurst1) await new Promise((r) => setImmediate(r));
    await publish("t", ["2-p0-a", "2-p0-b"], 0);
    await publish("t", ["2-p1-a", "2-p1-b"], 1);
    const burst2 = await probe.take(4);
    const firstOfBurst2 = Math.min(...burst2.map((d) => timestampMs(d.message!.publishTime!)));
    expect(firstOfBurst2).toBeGreaterThan(lastOfBurst1);
    probe.end();
    await probe.closed();

    const at = async (group: string, ms: number) =>
      (
        await call(admin(), AdminService.method.createGroup, {
          topic: "t",
          group,
          start: { kind: StartPosition_Kind.TIMESTAMP, time: timestampFromMs(ms) },
        })
      ).group!;
    expect(committed(await at("second-burst", firstOfBurst2))).toEqual([3n, 2n]);
    expect(committed(await at("between", lastOfBurst1 + 1))).toEqual([3n, 2n]);
    expect(committed(await at("before-all", 0))).toEqual([0n, 0n]);
    expect(committed(await at("after-all", Date.now() + 60_000))).toEqual([5n, 4n]);

    const sub = new TestSubscriber(b.clients, { topic: "t", group: "second-burst" });
    expect(payloads(await sub.take(4)).sort()).toEqual(["2-p0-a", "2-p0-b", "2-p1-a", "2-p1-b"]);
    sub.end();
    await sub.closed();
  });
});

describe("group state", () => {
  it("shows committed offset, end offset, lag, in-flight count and the connected consumer", async () => {
    await createTopic("t");
    await publish("t", Array.from({ length: 10 }, (_, i) => `m${i}`));
    const before = Date.now();
    const sub = new TestSubscriber(b.clients, { topic: "t", group: "g", maxInFlight: 4, consumerName: "worker-1" });
    const opened = await sub.opened();
    const first = await sub.take(4);
    expect(first.map((d) => d.message!.offset)).toEqual([0n, 1n, 2n, 3n]);
    // Ack 0, 1 and 3: the floor moves to 2, and 3 is acked above it.
    sub.ack(positions([first[0]!, first[1]!, first[3]!]));
    // The freed credit brings three more deliveries, which also means the acks were applied.
    const more = await sub.take(3);
    expect(more.map((d) => d.message!.offset)).toEqual([4n, 5n, 6n]);

    const g = await getGroup("t", "g");
    expect(g.partitions).toHaveLength(1);
    const p = g.partitions[0]!;
    expect(p.partition).toBe(0);
    expect(p.committedOffset).toBe(2n);
    expect(p.endOffset).toBe(10n);
    expect(p.ackedAboveCommitted).toBe(1n);
    expect(p.lag).toBe(7n); // 10 - 2 - 1
    expect(p.inFlight).toBe(4); // 2, 4, 5, 6
    expect(p.pendingRedelivery).toBe(0);
    expect(g.ignoredAcks).toBe(0n);

    expect(g.consumers).toHaveLength(1);
    const c = g.consumers[0]!;
    expect(c.id).toBe(opened.consumerId);
    expect(c.name).toBe("worker-1");
    expect(c.inFlight).toBe(4);
    expect(c.maxInFlight).toBe(4);
    expect(c.peer).toMatch(/127\.0\.0\.1:\d+/);
    expect(timestampMs(c.connectTime!)).toBeGreaterThanOrEqual(before - 1);

    sub.end();
    await sub.closed();
    const after = await getGroup("t", "g");
    expect(after.consumers).toEqual([]);
    expect(after.partitions[0]!.inFlight).toBe(0);
    expect(after.partitions[0]!.committedOffset).toBe(2n);
  });

  it("lists a topic's groups in name order without partition details", async () => {
    await createTopic("t");
    await createTopic("other");
    for (const name of ["b", "a", "c-2", "C", "a.1"]) {
      await call(admin(), AdminService.method.createGroup, { topic: "t", group: name });
    }
    await call(admin(), AdminService.method.createGroup, { topic: "other", group: "z" });
    const res = await call(admin(), AdminService.method.listGroups, { topic: "t" });
    expect(res.groups.map((g) => g.name)).toEqual(["C", "a", "a.1", "b", "c-2"]);
    for (const g of res.groups) {
      expect(g.topic).toBe("t");
      expect(g.partitions).toEqual([]);
      expect(g.consumers).toEqual([]);
      expect(g.settings!.ackDeadline!.seconds).toBe(30n);
    }
  });

  it("re-creates a deleted group from scratch: earliest start, no acks, first attempts", async () => {
    await createTopic("t");
    await publish("t", ["a", "b", "c"]);
    const sub = new TestSubscriber(b.clients, { topic: "t", group: "g" });
    sub.ack(positions(await sub.take(3)));
    await waitForGroup("t", "g", (g) => g.partitions[0]!.committedOffset === 3n);
    sub.end();
    await sub.closed();

    await call(admin(), AdminService.method.deleteGroup, { topic: "t", group: "g" });
    await expectCode(getGroup("t", "g"), NOT_FOUND);
    const again = (
      await call(admin(), AdminService.method.createGroup, { topic: "t", group: "g", settings: { ackDeadline: { seconds: 5n } } })
    ).group!;
    expect(committed(again)).toEqual([0n]);
    expect(again.partitions[0]!.lag).toBe(3n);
    expect(again.ignoredAcks).toBe(0n);
    expect(again.settings!.ackDeadline!.seconds).toBe(5n);

    const fresh = new TestSubscriber(b.clients, { topic: "t", group: "g" });
    const ds = await fresh.take(3);
    expect(payloads(ds)).toEqual(["a", "b", "c"]);
    expect(ds.map((d) => d.attempt)).toEqual([1, 1, 1]);
    fresh.end();
    await fresh.closed();
  });

  it("reports the group's creation time", async () => {
    await createTopic("t");
    const before = Date.now();
    const g = (await call(admin(), AdminService.method.createGroup, { topic: "t", group: "g" })).group!;
    const at = timestampDate(g.createTime!).getTime();
    expect(at).toBeGreaterThanOrEqual(before - 1);
    expect(at).toBeLessThanOrEqual(Date.now() + 1);
    expect((await getGroup("t", "g")).createTime).toEqual(g.createTime);
  });
});
