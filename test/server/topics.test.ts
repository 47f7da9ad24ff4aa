import { randomBytes } from "node:crypto";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { status } from "@grpc/grpc-js";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { CreateTopicRequestSchema } from "../../gen/sluice/v1/admin_pb.js";
import { PublishStreamRequestSchema } from "../../gen/sluice/v1/broker_pb.js";
import { AdminService, BrokerService, call, expectCode } from "../helpers/grpc-clients.js";
import { InProcessBroker } from "../helpers/in-process-broker.js";
import { PACK_MAX_BYTES } from "../../src/storage/record-pack.js";
import { rawPublishStream } from "../helpers/raw-grpc.js";
import { positions, TestSubscriber } from "../helpers/test-subscriber.js";

const enc = new TextEncoder();
const dec = new TextDecoder();
/** Short, so that tests of retention wait little for a pass. */
const RETENTION_INTERVAL_MS = 100;

let b: InProcessBroker;
beforeEach(async () => {
  b = await InProcessBroker.start({}, { retentionIntervalMs: RETENTION_INTERVAL_MS });
});
afterEach(async () => {
  await b.stop();
});

interface Msg {
  text?: string;
  payload?: Uint8Array;
  id?: string;
  partition?: number;
}

async function createTopic(req: MessageInitShape<typeof CreateTopicRequestSchema>) {
  return (await call(b.clients.admin, AdminService.method.createTopic, req)).topic!;
}

async function publish(topic: string, msgs: Msg[]) {
  const res = await call(b.clients.broker, BrokerService.method.publish, {
    topic,
    messages: msgs.map((m) => ({
      payload: m.payload ?? enc.encode(m.text ?? ""),
      messageId: m.id ?? "",
      ...(m.partition === undefined ? {} : { partition: m.partition }),
    })),
  });
  return res.results;
}

async function getTopic(name: string) {
  return (await call(b.clients.admin, AdminService.method.getTopic, { name })).topic!;
}

async function groupState(topic: string, group = "g") {
  return (await call(b.clients.admin, AdminService.method.getGroup, { topic, group })).group!;
}

/**
 * Polls an admin view until `ok` holds or `timeoutMs` passes. For state the
 * broker changes on its own clock (retention passes), where there is no
 * event to await.
 */
async function until<T>(what: string, get: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await get();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`never reached within ${timeoutMs} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, RETENTION_INTERVAL_MS / 4));
  }
}

/** Resolves once the wall clock (the broker's clock) reaches `ms`. */
async function clockReaches(ms: number): Promise<void> {
  while (Date.now() < ms) await new Promise((resolve) => setTimeout(resolve, ms - Date.now()));
}

const publishStream = () => rawPublishStream(b.clients.broker);

describe("dedupe", () => {
  it("answers a repeated message_id with the first partition and offset and duplicate set, storing it once", async () => {
    await createTopic({ name: "t", partitions: 4 });
    const [first] = await publish("t", [{ text: "a", id: "order-1" }]);
    expect(first!.duplicate).toBe(false);
    const results = await publish("t", [{ text: "b", id: "order-2" }, { text: "a again", id: "order-1" }, { text: "b again", id: "order-2" }]);
    expect(results[1]).toMatchObject({ partition: first!.partition, offset: first!.offset, duplicate: true });
    expect(results[2]).toMatchObject({ partition: results[0]!.partition, offset: results[0]!.offset, duplicate: true });
    expect(results[0]!.duplicate).toBe(false);
    const t = await getTopic("t");
    expect(t.partitions.reduce((n, p) => n + p.endOffset, 0n)).toBe(2n);
  });

  it("stores one message for concurrent unary publishes of one id", async () => {
    await createTopic({ name: "t" });
    const results = (await Promise.all(Array.from({ length: 20 }, (_, i) => publish("t", [{ text: `try ${i}`, id: "same" }])))).flat();
    expect(results.filter((r) => !r.duplicate)).toHaveLength(1);
    expect(new Set(results.map((r) => r.offset))).toEqual(new Set([0n]));
    expect((await getTopic("t")).partitions[0]!.endOffset).toBe(1n);
  });

  it("stores one message for a repeated id on PublishStream, within one request and across pipelined ones", async () => {
    await createTopic({ name: "t" });
    const { stream, responses } = publishStream();
    for (let i = 0; i < 20; i++) {
      const messages = [{ payload: enc.encode(`r${i}`), messageId: "same" }, { payload: enc.encode(`r${i} again`), messageId: "same" }];
      stream.write(create(PublishStreamRequestSchema, { requestId: BigInt(i), topic: "t", messages }));
    }
    stream.end();
    const results = (await responses).flatMap((r) => r.results);
    expect(results).toHaveLength(40);
    expect(results.map((r) => [r.offset, r.duplicate])).toEqual([[0n, false], ...Array.from({ length: 39 }, () => [0n, true])]);
    expect((await getTopic("t")).partitions[0]!.endOffset).toBe(1n);
  });

  it("stores a repeated id again once the window has passed", async () => {
    const t = await createTopic({ name: "t", dedupeWindow: { seconds: 1n } });
    expect(t.dedupeWindow).toMatchObject({ seconds: 1n, nanos: 0 });
    await publish("t", [{ text: "a", id: "x" }]);
    const firstDone = Date.now();
    expect((await publish("t", [{ text: "b", id: "x" }]))[0]!.duplicate).toBe(true);
    await clockReaches(firstDone + 1000);
    expect(await publish("t", [{ text: "c", id: "x" }])).toMatchObject([{ partition: 0, offset: 1n, duplicate: false }]);
  });

  it("remembers ids across a restart inside the window", async () => {
    await createTopic({ name: "t", partitions: 4 });
    const [first] = await publish("t", [{ text: "a", id: "order-1" }]);
    await b.restart();
    const [again] = await publish("t", [{ text: "a", id: "order-1" }]);
    expect(again).toMatchObject({ partition: first!.partition, offset: first!.offset, duplicate: true });
  });

  it("stores every message when the window is 0, and has a 2 minute window by default", async () => {
    const off = await createTopic({ name: "off", dedupeWindow: { seconds: 0n } });
    expect(off.dedupeWindow).toMatchObject({ seconds: 0n, nanos: 0 });
    const results = await publish("off", [{ text: "a", id: "x" }, { text: "b", id: "x" }]);
    expect(results.map((r) => [r.offset, r.duplicate])).toEqual([
      [0n, false],
      [1n, false],
    ]);
    expect((await createTopic({ name: "default" })).dedupeWindow).toMatchObject({ seconds: 120n, nanos: 0 });
  });

  it("refuses a window over 1 day with INVALID_ARGUMENT", async () => {
    await expectCode(createTopic({ name: "t", dedupeWindow: { seconds: 86_401n } }), status.INVALID_ARGUMENT);
  });
});

describe("retention", () => {
  it("removes messages older than max_age, and moves groups past them, counting what they had not acked as skipped", async () => {
    await createTopic({ name: "t", retention: { maxAge: { seconds: 1n } } });
    await call(b.clients.admin, AdminService.method.createGroup, { topic: "t", group: "g" });
    await publish("t", Array.from({ length: 5 }, (_, i) => ({ text: `old ${i}` })));
    const s = new TestSubscriber(b.clients, { topic: "t", group: "g" });
    const old = await s.take(5);
    s.ack(positions(old.slice(0, 2)));
    await until("the acks are applied", () => groupState("t"), (g) => g.partitions[0]!.committedOffset === 2n);
    const t = await until("retention removed the old messages", () => getTopic("t"), (t) => t.partitions[0]!.startOffset === 5n);
    expect(t.partitions[0]).toMatchObject({ startOffset: 5n, endOffset: 5n, bytes: 0n });
    expect(t.partitions[0]!.oldestPublishTime).toBeUndefined();
    expect((await groupState("t")).partitions[0]).toMatchObject({ committedOffset: 5n, skipped: 3n, lag: 0n, inFlight: 0 });
    await publish("t", [{ text: "new" }]);
    const [next] = await s.take(1);
    expect([next!.message!.offset, dec.decode(next!.message!.payload)]).toEqual([5n, "new"]);
    s.end();
  });

  it("keeps offsets of a partition retention emptied across a restart", async () => {
    await createTopic({ name: "t", retention: { maxAge: { nanos: 200_000_000 } } });
    await publish("t", [{ text: "a" }, { text: "b" }]);
    await until("retention emptied the partition", () => getTopic("t"), (t) => t.partitions[0]!.startOffset === 2n);
    await b.restart();
    expect((await getTopic("t")).partitions[0]).toMatchObject({ startOffset: 2n, endOffset: 2n });
    expect((await publish("t", [{ text: "c" }]))[0]!.offset).toBe(2n);
  });

  it("removes the oldest messages beyond max_bytes per partition, never more than needed", async () => {
    const maxBytes = 512 * 1024;
    await createTopic({ name: "t", partitions: 2, retention: { maxBytes: BigInt(maxBytes) } });
    // Incompressible, and more than LevelDB's 4 MiB write buffer, so that its size estimate sees most of it.
    for (let i = 0; i < 15; i++) {
      await publish("t", Array.from({ length: 100 }, () => ({ payload: randomBytes(4096), partition: 0 })));
    }
    await publish("t", [{ text: "small", partition: 1 }]);
    const trimmed = await until("retention trimmed partition 0", () => getTopic("t"), (t) => t.partitions[0]!.startOffset > 0n, 10_000);
    // 128 messages of 4 KiB fit: LevelDB's estimate leaves out recent writes, so retention removes at most the rest.
    expect(trimmed.partitions[0]!.startOffset).toBeLessThanOrEqual(1500n - 128n);
    expect(trimmed.partitions[1]).toMatchObject({ startOffset: 0n, endOffset: 1n });
    // After a restart LevelDB measures everything, and the next pass trims to about max_bytes.
    await b.restart();
    const t = await until(
      "retention brought partition 0 within max_bytes",
      () => getTopic("t"),
      (t) => t.partitions[0]!.bytes > 0n && Number(t.partitions[0]!.bytes) <= maxBytes,
      10_000,
    );
    const p0 = t.partitions[0]!;
    // LevelDB's estimate is as fine as its blocks, and a block holds a whole
    // pack of records (up to PACK_MAX_BYTES): the pass before the restart and
    // the one after may each have cut up to a pack more than needed.
    expect(Number(p0.bytes)).toBeGreaterThanOrEqual(maxBytes - 2 * PACK_MAX_BYTES);
    expect(p0.endOffset).toBe(1500n);
    expect(p0.startOffset).toBeGreaterThan(trimmed.partitions[0]!.startOffset);
    // What is left is all there: a new group gets every retained message, from the new start.
    // Takes them all without acking: a window wider than the default.
    const s = new TestSubscriber(b.clients, { topic: "t", group: "late", maxInFlight: 2000 });
    const all = await s.take(Number(1500n - p0.startOffset) + 1);
    const offsets = all.filter((d) => d.message!.partition === 0).map((d) => d.message!.offset);
    expect(offsets[0]).toBe(p0.startOffset);
    expect(offsets[offsets.length - 1]).toBe(1499n);
    s.end();
  });
});

describe("GetTopic", () => {
  it("shows each partition's start, end, approximate bytes and oldest publish time", async () => {
    await createTopic({ name: "t", partitions: 2 });
    const before = Date.now();
    await publish("t", Array.from({ length: 1000 }, () => ({ payload: randomBytes(1024), partition: 0 })));
    const after = Date.now();
    // LevelDB counts only data in its files; reopening moves recent writes there.
    await b.restart();
    const [p0, p1] = (await getTopic("t")).partitions;
    expect([p0!.startOffset, p0!.endOffset, p1!.startOffset, p1!.endOffset]).toEqual([0n, 1000n, 0n, 0n]);
    expect(Number(p0!.bytes)).toBeGreaterThanOrEqual(1000 * 1024 * 0.95);
    expect(Number(p0!.bytes)).toBeLessThanOrEqual(1000 * 1024 * 1.3);
    const oldest = timestampMs(p0!.oldestPublishTime!);
    expect(oldest).toBeGreaterThanOrEqual(before);
    expect(oldest).toBeLessThanOrEqual(after);
    expect(p1!.bytes).toBe(0n);
    expect(p1!.oldestPublishTime).toBeUndefined();
    const s = new TestSubscriber(b.clients, { topic: "t", group: "g" });
    const [first] = await s.take(1);
    expect(timestampMs(first!.message!.publishTime!)).toBe(oldest);
    s.end();
  });
});

describe("UpdateTopic", () => {
  it("changes the retention and the dedupe window, only those set, durably", async () => {
    await createTopic({ name: "t", retention: { maxAge: { seconds: 3600n }, maxBytes: 1n << 30n } });
    const updated = (await call(b.clients.admin, AdminService.method.updateTopic, { name: "t", dedupeWindow: { seconds: 0n } })).topic!;
    expect(updated.dedupeWindow).toMatchObject({ seconds: 0n });
    expect(updated.retention).toMatchObject({ maxAge: { seconds: 3600n }, maxBytes: 1n << 30n });
    expect((await publish("t", [{ text: "a", id: "x" }, { text: "b", id: "x" }])).map((r) => r.duplicate)).toEqual([false, false]);
    const again = (await call(b.clients.admin, AdminService.method.updateTopic, { name: "t", retention: { maxAge: { seconds: 60n } } }))
      .topic!;
    // A retention policy replaces the old one whole: max_bytes back to unlimited.
    expect(again.retention).toMatchObject({ maxAge: { seconds: 60n }, maxBytes: 0n });
    expect(again.dedupeWindow).toMatchObject({ seconds: 0n });
    await b.restart();
    const t = await getTopic("t");
    expect(t.retention).toMatchObject({ maxAge: { seconds: 60n }, maxBytes: 0n });
    expect(t.dedupeWindow).toMatchObject({ seconds: 0n });
  });

  it("applies a shorter max_age to messages already stored", async () => {
    await createTopic({ name: "t" });
    await publish("t", [{ text: "a" }, { text: "b" }]);
    await call(b.clients.admin, AdminService.method.updateTopic, { name: "t", retention: { maxAge: { nanos: 100_000_000 } } });
    await until("retention removed the messages", () => getTopic("t"), (t) => t.partitions[0]!.startOffset === 2n);
  });

  it("adds partitions whose messages reach existing groups, durably", async () => {
    await createTopic({ name: "t" });
    const s = new TestSubscriber(b.clients, { topic: "t", group: "g" });
    await s.opened();
    const t = (await call(b.clients.admin, AdminService.method.updateTopic, { name: "t", partitions: 3 })).topic!;
    expect(t.partitionCount).toBe(3);
    expect(t.partitions.map((p) => [p.partition, p.startOffset, p.endOffset])).toEqual([
      [0, 0n, 0n],
      [1, 0n, 0n],
      [2, 0n, 0n],
    ]);
    await publish("t", [{ text: "in the new partition", partition: 2 }]);
    const [d] = await s.take(1);
    expect([d!.message!.partition, d!.message!.offset, dec.decode(d!.message!.payload)]).toEqual([2, 0n, "in the new partition"]);
    expect((await groupState("t")).partitions.map((p) => p.partition)).toEqual([0, 1, 2]);
    s.end();
    await s.closed();
    await b.restart();
    expect((await getTopic("t")).partitionCount).toBe(3);
    expect((await groupState("t")).partitions).toHaveLength(3);
  });

  it("refuses fewer partitions with INVALID_ARGUMENT naming both counts, and an unknown topic with NOT_FOUND", async () => {
    await createTopic({ name: "t", partitions: 3 });
    const err = await expectCode(
      call(b.clients.admin, AdminService.method.updateTopic, { name: "t", partitions: 2 }),
      status.INVALID_ARGUMENT,
    );
    expect(err.details).toMatch(/has 3.*asks for 2/);
    expect((await getTopic("t")).partitionCount).toBe(3);
    await expectCode(call(b.clients.admin, AdminService.method.updateTopic, { name: "nope", partitions: 2 }), status.NOT_FOUND);
  });
});
