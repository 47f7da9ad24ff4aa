import { create, type MessageInitShape, toBinary } from "@bufbuild/protobuf";
import { type Client, type ClientDuplexStream, type ServiceError, status, type StatusObject } from "@grpc/grpc-js";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  type PublishStreamRequest,
  PublishStreamRequestSchema,
  type PublishStreamResponse,
  SubscribeRequestSchema,
} from "../../gen/sluice/v1/broker_pb.js";
import { StartPosition_Kind } from "../../gen/sluice/v1/message_pb.js";
import { AdminService, BrokerService, call, expectCode } from "../helpers/grpc-clients.js";
import { InProcessBroker } from "../helpers/in-process-broker.js";
import { rawClient, rawStream, rawSubscribe, rawUnary } from "../helpers/raw-grpc.js";
import { positions, TestSubscriber } from "../helpers/test-subscriber.js";

const enc = new TextEncoder();

let b: InProcessBroker | undefined;
afterEach(async () => {
  await b?.stop();
  b = undefined;
});

/** Starts the broker of a test; `limits` shrink the broker's limits. */
async function start(limits: Parameters<typeof InProcessBroker.start>[0] = {}): Promise<InProcessBroker> {
  b = await InProcessBroker.start(limits);
  return b;
}

function broker(): InProcessBroker {
  if (b === undefined) throw new Error("no broker started");
  return b;
}

const admin = () => broker().clients.admin;
const pub = () => broker().clients.broker;

async function createTopic(name: string, partitions = 1): Promise<void> {
  await call(admin(), AdminService.method.createTopic, { name, partitions });
}

async function publish(topic: string, payloads: string[]) {
  const res = await call(pub(), BrokerService.method.publish, {
    topic,
    messages: payloads.map((p) => ({ payload: enc.encode(p) })),
  });
  return res.results;
}

/** Expects `p` to fail with `code` and a message matching every pattern. */
async function expectStatus(p: Promise<unknown>, code: status, ...patterns: RegExp[]): Promise<ServiceError> {
  const err = await expectCode(p, code);
  for (const re of patterns) expect(err.details).toMatch(re);
  return err;
}

let aliveCount = 0;
/** The broker still creates topics, publishes and answers admin calls. */
async function expectServing(): Promise<void> {
  const name = `alive-${++aliveCount}`;
  await createTopic(name);
  const [r] = await publish(name, ["still here"]);
  expect(r!.offset).toBe(0n);
  const t = await call(admin(), AdminService.method.getTopic, { name });
  expect(t.topic!.partitions[0]!.endOffset).toBe(1n);
}

/** Polls GetGroup until `pred` holds; acks reach the group asynchronously to the stream. */
async function waitForGroup(topic: string, group: string, pred: (g: GroupView) => boolean): Promise<GroupView> {
  let last: GroupView | undefined;
  for (let i = 0; i < 500; i++) {
    last = (await call(admin(), AdminService.method.getGroup, { topic, group })).group!;
    if (pred(last)) return last;
  }
  throw new Error(`group ${group} never reached the expected state; last: ignored_acks=${last?.ignoredAcks}`);
}
type GroupView = NonNullable<Awaited<ReturnType<typeof getGroup>>["group"]>;
const getGroup = (topic: string, group: string) => call(admin(), AdminService.method.getGroup, { topic, group });

async function expectStreamStatus(final: Promise<StatusObject>, code: status, ...patterns: RegExp[]) {
  const s = await final;
  expect({ code: s.code, details: s.details }).toMatchObject({ code });
  for (const re of patterns) expect(s.details).toMatch(re);
}

/** Expects a TestSubscriber's stream to end with `code` and a message matching the patterns. */
async function expectSubscriberEnds(sub: TestSubscriber, code: status, ...patterns: RegExp[]) {
  await sub.closed();
  expect(sub.error, "the stream should have failed").toBeDefined();
  expect({ code: sub.error!.code, details: sub.error!.details }).toMatchObject({ code });
  for (const re of patterns) expect(sub.error!.details).toMatch(re);
}

const seconds = (s: number) => ({ seconds: BigInt(Math.trunc(s)), nanos: Math.round((s % 1) * 1e9) });

describe("unknown topics and groups get NOT_FOUND", () => {
  beforeEach(async () => {
    await start();
    await createTopic("exists");
  });

  it("rejects a Publish to a topic that does not exist, naming the topic", async () => {
    await expectStatus(
      call(pub(), BrokerService.method.publish, { topic: "nope", messages: [{ payload: enc.encode("x") }] }),
      status.NOT_FOUND,
      /topic nope does not exist/,
    );
    await expectServing();
  });

  it("rejects GetTopic and DeleteTopic of a topic that does not exist", async () => {
    await expectStatus(call(admin(), AdminService.method.getTopic, { name: "nope" }), status.NOT_FOUND, /topic nope/);
    await expectStatus(call(admin(), AdminService.method.deleteTopic, { name: "nope" }), status.NOT_FOUND, /topic nope/);
    await expectServing();
  });

  it("ends a Subscribe to a topic that does not exist with NOT_FOUND", async () => {
    const sub = new TestSubscriber(broker().clients, { topic: "nope", group: "g" });
    await expectSubscriberEnds(sub, status.NOT_FOUND, /topic nope does not exist/);
    await expectServing();
  });

  it("rejects GetGroup and DeleteGroup of a group that does not exist, naming group and topic", async () => {
    await expectStatus(getGroup("exists", "ghost"), status.NOT_FOUND, /group ghost/, /topic exists/);
    await expectStatus(
      call(admin(), AdminService.method.deleteGroup, { topic: "exists", group: "ghost" }),
      status.NOT_FOUND,
      /group ghost/,
    );
    await expectServing();
  });

  it("rejects group calls on a topic that does not exist with NOT_FOUND for the topic", async () => {
    await expectStatus(getGroup("nope", "g"), status.NOT_FOUND, /topic nope/);
    await expectStatus(call(admin(), AdminService.method.listGroups, { topic: "nope" }), status.NOT_FOUND, /topic nope/);
    await expectStatus(
      call(admin(), AdminService.method.createGroup, { topic: "nope", group: "g" }),
      status.NOT_FOUND,
      /topic nope/,
    );
    await expectServing();
  });
});

describe("names that are taken get ALREADY_EXISTS", () => {
  beforeEach(async () => {
    await start();
  });

  it("rejects a second topic with the same name and keeps the first one intact", async () => {
    await createTopic("dup", 3);
    await expectStatus(
      call(admin(), AdminService.method.createTopic, { name: "dup", partitions: 1 }),
      status.ALREADY_EXISTS,
      /topic dup already exists/,
    );
    const t = await call(admin(), AdminService.method.getTopic, { name: "dup" });
    expect(t.topic!.partitionCount).toBe(3);
    await expectServing();
  });

  it("rejects a second group with the same name on the same topic", async () => {
    await createTopic("t");
    await call(admin(), AdminService.method.createGroup, { topic: "t", group: "g" });
    await expectStatus(
      call(admin(), AdminService.method.createGroup, { topic: "t", group: "g" }),
      status.ALREADY_EXISTS,
      /group g already exists on topic t/,
    );
    await expectServing();
  });

  it("rejects concurrent creations of one topic name except one", async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 5 }, () => call(admin(), AdminService.method.createTopic, { name: "race" })),
    );
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    for (const r of results) {
      if (r.status === "rejected") expect((r.reason as ServiceError).code).toBe(status.ALREADY_EXISTS);
    }
  });
});

// Each has a character outside [A-Za-z0-9._-].
const FORBIDDEN = [" ", "/", "*", ":", "é", "日", "🙂", "\u0000", "\n", "#", "?", "\\", "+", "@", ","];

describe("invalid topic and group names get INVALID_ARGUMENT", () => {
  beforeEach(async () => {
    await start();
    await createTopic("t");
  });

  it("rejects an empty topic name", async () => {
    await expectStatus(
      call(admin(), AdminService.method.createTopic, { name: "" }),
      status.INVALID_ARGUMENT,
      /topic name is empty/,
    );
    await expectServing();
  });

  it("rejects a topic name of 201 characters and accepts one of 200", async () => {
    await expectStatus(
      call(admin(), AdminService.method.createTopic, { name: "a".repeat(201) }),
      status.INVALID_ARGUMENT,
      /topic name is 201 characters long; the maximum is 200/,
    );
    const res = await call(admin(), AdminService.method.createTopic, { name: "a".repeat(200) });
    expect(res.topic!.name).toBe("a".repeat(200));
    await publish("a".repeat(200), ["x"]);
  });

  it.each(FORBIDDEN)("rejects a topic name containing %j, naming the character", async (c) => {
    const err = await expectStatus(
      call(admin(), AdminService.method.createTopic, { name: `bad${c}name` }),
      status.INVALID_ARGUMENT,
      /topic name/,
      /allowed are letters, digits, '\.', '_' and '-'/,
    );
    expect(err.details).toContain(JSON.stringify(c));
    await expectServing();
  });

  it("accepts a topic name using every allowed kind of character", async () => {
    await createTopic("Az09._-");
    await publish("Az09._-", ["x"]);
  });

  it("rejects an invalid topic name on Publish, GetTopic and Subscribe before looking it up", async () => {
    await expectStatus(
      call(pub(), BrokerService.method.publish, { topic: "a/b", messages: [{ payload: enc.encode("x") }] }),
      status.INVALID_ARGUMENT,
      /topic name "a\/b" contains "\/"/,
    );
    await expectStatus(call(admin(), AdminService.method.getTopic, { name: "" }), status.INVALID_ARGUMENT, /topic name is empty/);
    const sub = new TestSubscriber(broker().clients, { topic: "a b", group: "g" });
    await expectSubscriberEnds(sub, status.INVALID_ARGUMENT, /topic name "a b" contains " "/);
    await expectServing();
  });

  it("rejects an empty group name and one of 201 characters, and accepts one of 200", async () => {
    await expectStatus(
      call(admin(), AdminService.method.createGroup, { topic: "t", group: "" }),
      status.INVALID_ARGUMENT,
      /group name is empty/,
    );
    await expectStatus(
      call(admin(), AdminService.method.createGroup, { topic: "t", group: "g".repeat(201) }),
      status.INVALID_ARGUMENT,
      /group name is 201 characters long; the maximum is 200/,
    );
    const res = await call(admin(), AdminService.method.createGroup, { topic: "t", group: "g".repeat(200) });
    expect(res.group!.name).toBe("g".repeat(200));
  });

  it.each(FORBIDDEN)("rejects a group name containing %j on CreateGroup and Subscribe", async (c) => {
    const err = await expectStatus(
      call(admin(), AdminService.method.createGroup, { topic: "t", group: `g${c}` }),
      status.INVALID_ARGUMENT,
      /group name/,
    );
    expect(err.details).toContain(JSON.stringify(c));
    const sub = new TestSubscriber(broker().clients, { topic: "t", group: `g${c}` });
    await expectSubscriberEnds(sub, status.INVALID_ARGUMENT, /group name/);
    expect(sub.error!.details).toContain(JSON.stringify(c));
    const groups = await call(admin(), AdminService.method.listGroups, { topic: "t" });
    expect(groups.groups).toEqual([]);
  });

  it("rejects a topic name that is not valid UTF-8 on the wire", async () => {
    // PublishRequest{topic: bytes C3 28}: field 1, length 2, an invalid UTF-8 sequence.
    const raw = rawClient(BrokerService, broker().address);
    const err = await rawUnary(raw, "publish", Buffer.from([0x0a, 0x02, 0xc3, 0x28]));
    expect(err?.code).toBe(status.INVALID_ARGUMENT);
    expect(err?.details).toMatch(/malformed Publish request/);
    raw.close();
    await expectServing();
  });
});

describe("partition counts", () => {
  beforeEach(async () => {
    await start({ maxPartitions: 8 });
  });

  it("creates one partition when the request asks for zero", async () => {
    const res = await call(admin(), AdminService.method.createTopic, { name: "t", partitions: 0 });
    expect(res.topic!.partitionCount).toBe(1);
    const t = await call(admin(), AdminService.method.getTopic, { name: "t" });
    expect(t.topic!.partitions.map((p) => p.partition)).toEqual([0]);
  });

  it("accepts exactly --max-partitions partitions", async () => {
    const res = await call(admin(), AdminService.method.createTopic, { name: "t", partitions: 8 });
    expect(res.topic!.partitionCount).toBe(8);
  });

  it.each([9, 1000, 2 ** 32 - 1])("rejects %i partitions, naming the limit and its flag", async (n) => {
    await expectStatus(
      call(admin(), AdminService.method.createTopic, { name: "t", partitions: n }),
      status.INVALID_ARGUMENT,
      /partitions must be between 1 and 8/,
      /--max-partitions/,
      new RegExp(`got ${n}`),
    );
    await expectStatus(call(admin(), AdminService.method.getTopic, { name: "t" }), status.NOT_FOUND);
    await expectServing();
  });
});

describe("publish requests", () => {
  it("rejects a publish with no messages", async () => {
    await start();
    await createTopic("t");
    await expectStatus(
      call(pub(), BrokerService.method.publish, { topic: "t", messages: [] }),
      status.INVALID_ARGUMENT,
      /at least one message/,
    );
    await expectServing();
  });

  it("rejects a partition out of range, naming it and the valid range, and stores none of the batch", async () => {
    await start();
    await createTopic("t", 2);
    await expectStatus(
      call(pub(), BrokerService.method.publish, {
        topic: "t",
        messages: [{ payload: enc.encode("ok"), partition: 0 }, { payload: enc.encode("bad"), partition: 2 }],
      }),
      status.INVALID_ARGUMENT,
      /message 1 names partition 2, but topic t has 2 \(0 to 1\)/,
    );
    await expectStatus(
      call(pub(), BrokerService.method.publish, { topic: "t", messages: [{ payload: enc.encode("x"), partition: 2 ** 32 - 1 }] }),
      status.INVALID_ARGUMENT,
      /partition 4294967295/,
    );
    const t = await call(admin(), AdminService.method.getTopic, { name: "t" });
    expect(t.topic!.partitions.map((p) => p.endOffset)).toEqual([0n, 0n]);
    await expectServing();
  });

  it("rejects a message over --max-message-bytes, naming the limit, and accepts one at the limit", async () => {
    await start({ maxMessageBytes: 1000 });
    await createTopic("t");
    await expectStatus(
      call(pub(), BrokerService.method.publish, { topic: "t", messages: [{ payload: new Uint8Array(1001) }] }),
      status.INVALID_ARGUMENT,
      /message 0 is 1001 bytes/,
      /--max-message-bytes is 1000/,
    );
    const res = await call(pub(), BrokerService.method.publish, { topic: "t", messages: [{ payload: new Uint8Array(1000) }] });
    expect(res.results[0]!.offset).toBe(0n);
    await expectServing();
  });

  it("counts the key and headers toward --max-message-bytes", async () => {
    await start({ maxMessageBytes: 1000 });
    await createTopic("t");
    // 990 payload + 5 key + 2 + 3 header bytes = 1000.
    const atLimit = { payload: new Uint8Array(990), key: "kkkkk", headers: { ab: "cde" } };
    await call(pub(), BrokerService.method.publish, { topic: "t", messages: [atLimit] });
    await expectStatus(
      call(pub(), BrokerService.method.publish, {
        topic: "t",
        messages: [atLimit, { ...atLimit, key: "kkkkkk" }],
      }),
      status.INVALID_ARGUMENT,
      /message 1 is 1001 bytes \(key, payload and headers\)/,
      /--max-message-bytes is 1000/,
    );
    const t = await call(admin(), AdminService.method.getTopic, { name: "t" });
    expect(t.topic!.partitions[0]!.endOffset).toBe(1n);
  });

  it("rejects a request over the gRPC request size limit with RESOURCE_EXHAUSTED", async () => {
    await start();
    await createTopic("t");
    // The in-process broker reads requests of at most 16 MiB.
    await expectStatus(
      call(pub(), BrokerService.method.publish, { topic: "t", messages: [{ payload: new Uint8Array(17 << 20) }] }),
      status.RESOURCE_EXHAUSTED,
      /larger than max/,
    );
    const t = await call(admin(), AdminService.method.getTopic, { name: "t" });
    expect(t.topic!.partitions[0]!.endOffset).toBe(0n);
    await expectServing();
  });

  it("answers a bad request on PublishStream with a per-request error and keeps the stream open", async () => {
    await start({ maxMessageBytes: 1000 });
    await createTopic("t");
    const client = pub() as unknown as Record<string, (this: Client) => unknown>;
    const stream = client.publishStream!.call(pub()) as ClientDuplexStream<PublishStreamRequest, PublishStreamResponse>;
    const responses: PublishStreamResponse[] = [];
    const ended = new Promise<StatusObject>((resolve) => stream.on("status", resolve));
    stream.on("data", (r: PublishStreamResponse) => responses.push(r));
    const send = (req: MessageInitShape<typeof PublishStreamRequestSchema>) =>
      stream.write(create(PublishStreamRequestSchema, req));
    send({ requestId: 1n, topic: "nope", messages: [{ payload: enc.encode("x") }] });
    send({ requestId: 2n, topic: "t", messages: [] });
    send({ requestId: 3n, topic: "t", messages: [{ payload: new Uint8Array(1001) }] });
    send({ requestId: 4n, topic: "t", messages: [{ payload: enc.encode("good") }] });
    stream.end();
    const s = await ended;
    expect(s.code).toBe(status.OK);
    expect(responses.map((r) => r.requestId)).toEqual([1n, 2n, 3n, 4n]);
    expect(responses[0]!.error).toMatchObject({ code: status.NOT_FOUND, message: expect.stringMatching(/topic nope/) });
    expect(responses[1]!.error).toMatchObject({ code: status.INVALID_ARGUMENT, message: expect.stringMatching(/at least one/) });
    expect(responses[2]!.error).toMatchObject({
      code: status.INVALID_ARGUMENT,
      message: expect.stringMatching(/--max-message-bytes is 1000/),
    });
    expect(responses[3]!.error).toBeUndefined();
    expect(responses[3]!.results.map((r) => r.offset)).toEqual([0n]);
  });
});

describe("the Subscribe stream protocol", () => {
  beforeEach(async () => {
    await start();
    await createTopic("t");
  });

  it.each(["ack", "nack", "extend"] as const)("ends a stream whose first message is %s with FAILED_PRECONDITION", async (kind) => {
    const s = rawSubscribe(pub());
    s.send({ request: { case: kind, value: { positions: [{ partition: 0, offset: 0n }] } } });
    await expectStreamStatus(s.status, status.FAILED_PRECONDITION, /first message on a Subscribe stream must be `open`/, new RegExp(kind));
    expect(s.responses).toEqual([]);
    await expectServing();
  });

  it("ends a stream that sends a second open with FAILED_PRECONDITION and gives its messages to the group", async () => {
    await publish("t", ["a"]);
    const first = new TestSubscriber(broker().clients, { topic: "t", group: "g" });
    await first.take(1);
    first.send({ request: { case: "open", value: { topic: "t", group: "g" } } });
    await expectSubscriberEnds(first, status.FAILED_PRECONDITION, /already open; send `open` once/);
    // The failed stream's lease went back to the group at once.
    const second = new TestSubscriber(broker().clients, { topic: "t", group: "g" });
    const [d] = await second.take(1);
    expect(d!.attempt).toBe(2);
    second.end();
    await second.closed();
  });

  it("ends a stream whose first message is an empty SubscribeRequest with INVALID_ARGUMENT", async () => {
    const s = rawSubscribe(pub());
    s.send({});
    await expectStreamStatus(s.status, status.INVALID_ARGUMENT, /empty SubscribeRequest/);
    await expectServing();
  });

  it("ends an open stream that sends an empty SubscribeRequest with INVALID_ARGUMENT", async () => {
    const sub = new TestSubscriber(broker().clients, { topic: "t", group: "g" });
    await sub.opened();
    sub.send({});
    await expectSubscriberEnds(sub, status.INVALID_ARGUMENT, /empty SubscribeRequest: set one of open, ack, nack, extend/);
  });

  it("rejects max_in_flight over the broker's limit, naming the limit", async () => {
    const sub = new TestSubscriber(broker().clients, { topic: "t", group: "g", maxInFlight: 100_001 });
    await expectSubscriberEnds(sub, status.INVALID_ARGUMENT, /max_in_flight must be between 1 and 100000/, /got 100001/);
    await expectServing();
  });

  it("accepts max_in_flight at the broker's limit", async () => {
    const sub = new TestSubscriber(broker().clients, { topic: "t", group: "g", maxInFlight: 100_000 });
    await sub.opened();
    sub.end();
    await sub.closed();
    expect(sub.error).toBeUndefined();
  });

  it("rejects a KIND_TIMESTAMP start position without a time", async () => {
    const sub = new TestSubscriber(broker().clients, {
      topic: "t",
      group: "g",
      start: { kind: StartPosition_Kind.TIMESTAMP },
    });
    await expectSubscriberEnds(sub, status.INVALID_ARGUMENT, /KIND_TIMESTAMP needs `time`/);
  });

  it.each([601, 3600, 2 ** 40])("ends a stream that nacks with a delay of %i s with INVALID_ARGUMENT", async (delay) => {
    await publish("t", ["a"]);
    const sub = new TestSubscriber(broker().clients, { topic: "t", group: "g" });
    const ds = await sub.take(1);
    sub.send({ request: { case: "nack", value: { positions: positions(ds), delay: seconds(delay) } } });
    await expectSubscriberEnds(sub, status.INVALID_ARGUMENT, /nack delay must be at most 600s/);
    await expectServing();
  });

  it("ends a stream that nacks with a negative delay with INVALID_ARGUMENT", async () => {
    await publish("t", ["a"]);
    const sub = new TestSubscriber(broker().clients, { topic: "t", group: "g" });
    const ds = await sub.take(1);
    sub.send({ request: { case: "nack", value: { positions: positions(ds), delay: { seconds: -1n } } } });
    await expectSubscriberEnds(sub, status.INVALID_ARGUMENT, /nack delay must not be negative/);
  });

  it("accepts a nack delay of exactly 600 s and keeps delivering other messages", async () => {
    await publish("t", ["a"]);
    const sub = new TestSubscriber(broker().clients, { topic: "t", group: "g" });
    const ds = await sub.take(1);
    sub.nack(positions(ds), 600_000);
    await publish("t", ["b"]);
    const [d] = await sub.take(1);
    expect(d!.message!.offset).toBe(1n);
    sub.end();
    await sub.closed();
    expect(sub.error).toBeUndefined();
  });

  it("validates a nack sent right after open, before the broker confirmed the open", async () => {
    const s = rawSubscribe(pub());
    s.send({ request: { case: "open", value: { topic: "t", group: "g" } } });
    s.send({ request: { case: "nack", value: { positions: [], delay: seconds(601) } } });
    await expectStreamStatus(s.status, status.INVALID_ARGUMENT, /nack delay must be at most 600s/);
  });

  it("counts acks sent right after open, before the broker confirmed it, as ignored", async () => {
    const s = rawSubscribe(pub());
    s.send({ request: { case: "open", value: { topic: "t", group: "g" } } });
    s.send({ request: { case: "ack", value: { positions: [{ partition: 0, offset: 0n }, { partition: 0, offset: 1n }] } } });
    // The broker handles what arrived during `open` right after confirming it.
    await s.responsesArrived(1);
    expect((await getGroup("t", "g")).group!.ignoredAcks).toBe(2n);
    await publish("t", ["a"]);
    const rs = await s.responsesArrived(2);
    expect(rs.map((r) => r.response.case)).toEqual(["subscribed", "deliveries"]);
  });

  it.each([0, 0.999, 601, -5])("ends a stream that extends to %s s with INVALID_ARGUMENT", async (deadline) => {
    await publish("t", ["a"]);
    const sub = new TestSubscriber(broker().clients, { topic: "t", group: "g" });
    const ds = await sub.take(1);
    sub.send({ request: { case: "extend", value: { positions: positions(ds), deadline: seconds(deadline) } } });
    await expectSubscriberEnds(sub, status.INVALID_ARGUMENT, /extend deadline must (be between 1s and 600s|not be negative)/);
    await expectServing();
  });

  it("accepts extensions of exactly 1 s and 600 s", async () => {
    await publish("t", ["a"]);
    const sub = new TestSubscriber(broker().clients, { topic: "t", group: "g" });
    const ds = await sub.take(1);
    sub.extend(positions(ds), 1000);
    sub.extend(positions(ds), 600_000);
    sub.ack(positions(ds));
    await waitForGroup("t", "g", (g) => g.partitions[0]!.committedOffset === 1n);
    sub.end();
    await sub.closed();
    expect(sub.error).toBeUndefined();
  });
});

describe("group settings", () => {
  beforeEach(async () => {
    await start();
    await createTopic("t");
  });

  it.each([0.5, 601, 86_400])("rejects an ack deadline of %s s on CreateGroup", async (s) => {
    await expectStatus(
      call(admin(), AdminService.method.createGroup, { topic: "t", group: "g", settings: { ackDeadline: seconds(s) } }),
      status.INVALID_ARGUMENT,
      /ack_deadline must be between 1s and 600s/,
    );
    await expectStatus(getGroup("t", "g"), status.NOT_FOUND);
  });

  it("rejects a negative ack deadline on CreateGroup", async () => {
    await expectStatus(
      call(admin(), AdminService.method.createGroup, { topic: "t", group: "g", settings: { ackDeadline: { seconds: -1n } } }),
      status.INVALID_ARGUMENT,
      /ack_deadline must not be negative/,
    );
  });

  it.each([1, 600])("accepts an ack deadline of %i s", async (s) => {
    const res = await call(admin(), AdminService.method.createGroup, {
      topic: "t",
      group: "g",
      settings: { ackDeadline: seconds(s) },
    });
    expect(res.group!.settings!.ackDeadline!.seconds).toBe(BigInt(s));
  });

  it("rejects an ack deadline out of range in a Subscribe open that creates the group", async () => {
    const sub = new TestSubscriber(broker().clients, { topic: "t", group: "g", settings: { ackDeadline: seconds(601) } });
    await expectSubscriberEnds(sub, status.INVALID_ARGUMENT, /ack_deadline must be between 1s and 600s/);
    await expectStatus(getGroup("t", "g"), status.NOT_FOUND);
  });

  it("rejects an unknown start position kind", async () => {
    await expectStatus(
      call(admin(), AdminService.method.createGroup, { topic: "t", group: "g", start: { kind: 99 as StartPosition_Kind } }),
      status.INVALID_ARGUMENT,
      /unknown start position kind 99/,
    );
  });

  it("rejects a negative retention on CreateTopic", async () => {
    await expectStatus(
      call(admin(), AdminService.method.createTopic, { name: "r", retention: { maxAge: { seconds: -10n } } }),
      status.INVALID_ARGUMENT,
      /retention.max_age must not be negative/,
    );
  });

  it("rejects a retention too long to store with INVALID_ARGUMENT, and keeps serving", async () => {
    await expectStatus(
      call(admin(), AdminService.method.createTopic, { name: "r", retention: { maxAge: { seconds: 2n ** 62n } } }),
      status.INVALID_ARGUMENT,
      /retention.max_age is too long/,
    );
    await expectStatus(call(admin(), AdminService.method.getTopic, { name: "r" }), status.NOT_FOUND);
    await expectServing();
  });
});

describe("acks of positions never delivered", () => {
  beforeEach(async () => {
    await start();
    await createTopic("t", 2);
  });

  it("ignores and counts acks of a wrong partition, a future offset and an already acked message", async () => {
    await call(pub(), BrokerService.method.publish, { topic: "t", messages: [{ payload: enc.encode("a"), partition: 0 }] });
    const sub = new TestSubscriber(broker().clients, { topic: "t", group: "g" });
    const ds = await sub.take(1);
    sub.ack(positions(ds));
    sub.ack([
      { partition: 7, offset: 0n }, // no such partition
      { partition: 2 ** 32 - 1, offset: 0n },
      { partition: 0, offset: 100n }, // never published
      { partition: 0, offset: 2n ** 64n - 1n },
      { partition: 1, offset: 0n }, // partition exists, but is empty
      { partition: 0, offset: 0n }, // acked above
    ]);
    const g = await waitForGroup("t", "g", (g) => g.ignoredAcks >= 6n);
    expect(g.ignoredAcks).toBe(6n);
    expect(g.partitions.map((p) => p.committedOffset)).toEqual([1n, 0n]);

    // The stream keeps working.
    await call(pub(), BrokerService.method.publish, { topic: "t", messages: [{ payload: enc.encode("b"), partition: 0 }] });
    const [d] = await sub.take(1);
    expect(d!.message!.offset).toBe(1n);
    sub.ack(positions([d!]));
    await waitForGroup("t", "g", (g) => g.partitions[0]!.committedOffset === 2n);
    expect(sub.ended).toBe(false);
    sub.end();
    await sub.closed();
    expect(sub.error).toBeUndefined();
  });

  it("ignores and counts nacks and extensions of positions the stream does not hold", async () => {
    const sub = new TestSubscriber(broker().clients, { topic: "t", group: "g" });
    await sub.opened();
    sub.nack([{ partition: 0, offset: 5n }]);
    sub.extend([{ partition: 1, offset: 9n }], 10_000);
    await waitForGroup("t", "g", (g) => g.ignoredAcks === 2n);
    await call(pub(), BrokerService.method.publish, { topic: "t", messages: [{ payload: enc.encode("a"), partition: 1 }] });
    const [d] = await sub.take(1);
    expect(d!.attempt).toBe(1);
    sub.end();
    await sub.closed();
    expect(sub.error).toBeUndefined();
  });
});

describe("deleting groups and topics under connected consumers", () => {
  beforeEach(async () => {
    await start();
    await createTopic("t");
  });

  it("refuses to delete a group with a connected consumer without force, and the consumer keeps working", async () => {
    const sub = new TestSubscriber(broker().clients, { topic: "t", group: "g" });
    await sub.opened();
    await expectStatus(
      call(admin(), AdminService.method.deleteGroup, { topic: "t", group: "g" }),
      status.FAILED_PRECONDITION,
      /group g has 1 connected consumers/,
      /force/,
    );
    await publish("t", ["a"]);
    const [d] = await sub.take(1);
    expect(d!.message!.offset).toBe(0n);
    sub.end();
    await sub.closed();
  });

  it("deletes a group with force and ends its streams with ABORTED", async () => {
    const s1 = new TestSubscriber(broker().clients, { topic: "t", group: "g" });
    const s2 = new TestSubscriber(broker().clients, { topic: "t", group: "g" });
    await Promise.all([s1.opened(), s2.opened()]);
    await call(admin(), AdminService.method.deleteGroup, { topic: "t", group: "g", force: true });
    await expectSubscriberEnds(s1, status.ABORTED, /group g was deleted/);
    await expectSubscriberEnds(s2, status.ABORTED, /group g was deleted/);
    await expectStatus(getGroup("t", "g"), status.NOT_FOUND);
    await expectServing();
  });

  it("ends the open streams of every group of a deleted topic with ABORTED", async () => {
    await publish("t", ["a"]);
    const s1 = new TestSubscriber(broker().clients, { topic: "t", group: "g1" });
    const s2 = new TestSubscriber(broker().clients, { topic: "t", group: "g2" });
    await Promise.all([s1.take(1), s2.take(1)]);
    await call(admin(), AdminService.method.deleteTopic, { name: "t" });
    await expectSubscriberEnds(s1, status.ABORTED, /topic t was deleted/);
    await expectSubscriberEnds(s2, status.ABORTED, /topic t was deleted/);
    await expectStatus(publish("t", ["b"]), status.NOT_FOUND, /topic t does not exist/);
    await expectServing();
  });
});

describe("paging", () => {
  beforeEach(async () => {
    await start();
  });

  it.each(["not-a-token", "!!!", Buffer.from("x:orders").toString("base64url")])(
    "rejects the ListTopics page_token %j with INVALID_ARGUMENT",
    async (pageToken) => {
      await expectStatus(
        call(admin(), AdminService.method.listTopics, { pageToken }),
        status.INVALID_ARGUMENT,
        /page_token is not one ListTopics returned/,
      );
      await expectServing();
    },
  );
});

const GARBAGE = Buffer.from([0xff, 0xff, 0xff]);

describe("malformed protobuf requests get INVALID_ARGUMENT", () => {
  beforeEach(async () => {
    await start();
  });

  // Every unary RPC the API declares, so a new one is covered as soon as it exists.
  const unaryMethods = [BrokerService, AdminService].flatMap((service) =>
    service.methods.filter((m) => m.methodKind === "unary").map((m) => [service.typeName, m.name, service, m.localName] as const),
  );

  it.each(unaryMethods)("answers garbage sent to %s/%s with INVALID_ARGUMENT", async (_, name, service, localName) => {
    const client = rawClient(service, broker().address);
    try {
      const err = await rawUnary(client, localName, GARBAGE);
      expect(err?.code).toBe(status.INVALID_ARGUMENT);
      expect(err?.details).toMatch(new RegExp(`malformed ${name} request`));
    } finally {
      client.close();
    }
    await expectServing();
  });

  it.each(["publishStream", "subscribe"])("ends a %s stream that sends garbage with INVALID_ARGUMENT", async (method) => {
    const client = rawClient(BrokerService, broker().address);
    try {
      const s = await rawStream(client, method, GARBAGE);
      expect(s.code).toBe(status.INVALID_ARGUMENT);
      expect(s.details).toMatch(/malformed (PublishStream|Subscribe) request/);
    } finally {
      client.close();
    }
    await expectServing();
  });

  it("ends an open Subscribe stream that then sends garbage, and releases its messages", async () => {
    await createTopic("t");
    await publish("t", ["a"]);
    const client = rawClient(BrokerService, broker().address);
    try {
      const fn = (client as unknown as Record<string, Function>).subscribe!;
      const stream = fn.call(client) as ClientDuplexStream<Buffer, Buffer>;
      const final = new Promise<StatusObject>((resolve) => stream.on("status", resolve));
      stream.on("error", () => {});
      let got = 0;
      const firstDelivery = new Promise<void>((resolve) =>
        stream.on("data", () => {
          if (++got === 2) resolve(); // `subscribed`, then one batch
        }),
      );
      const open = create(SubscribeRequestSchema, { request: { case: "open", value: { topic: "t", group: "g" } } });
      stream.write(Buffer.from(toBinary(SubscribeRequestSchema, open)));
      await firstDelivery;
      stream.write(GARBAGE);
      const s = await final;
      expect(s.code).toBe(status.INVALID_ARGUMENT);
      expect(s.details).toMatch(/malformed Subscribe request/);
    } finally {
      client.close();
    }
    const sub = new TestSubscriber(broker().clients, { topic: "t", group: "g" });
    const [d] = await sub.take(1);
    expect(d!.attempt).toBe(2);
    sub.end();
    await sub.closed();
  });
});
