import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, SluiceClient, SluiceError, json, type ReceivedMessage } from "../../src/index.js";
import { startBroker, type BrokerProcess } from "../helpers/broker-process.js";

let broker: BrokerProcess;
let client: SluiceClient;

beforeAll(async () => {
  broker = await startBroker();
  client = new SluiceClient(broker.address);
});

afterAll(async () => {
  await client?.close();
  await broker?.stop();
});

describe("publish and consume round trip", () => {
  it("delivers what publish() stored, with key, headers, payload, message id and position intact", async () => {
    await client.createTopic("round-trip", { partitions: 2 });
    const bytes = new Uint8Array([0, 1, 2, 255]);
    const results = await client.publish("round-trip", [
      { payload: "plain text", key: "k1", headers: { kind: "text" }, messageId: "id-1" },
      { payload: json({ order: 42, items: ["a", "b"] }), key: "k2", headers: { kind: "json" } },
      { payload: bytes, partition: 1 },
      "bare string",
    ]);
    expect(results).toHaveLength(4);
    expect(results[2]!.partition).toBe(1);

    const received = new Map<string, ReceivedMessage>();
    for await (const m of client.subscribe("round-trip", "g")) {
      received.set(`${m.partition}:${m.offset}`, m);
      m.ack();
      if (received.size === 4) break;
    }
    const at = (i: number) => received.get(`${results[i]!.partition}:${results[i]!.offset}`)!;
    expect(at(0).text()).toBe("plain text");
    expect(at(0)).toMatchObject({ topic: "round-trip", key: "k1", headers: { kind: "text" }, messageId: "id-1", attempt: 1 });
    expect(at(1).json()).toEqual({ order: 42, items: ["a", "b"] });
    expect(at(1).key).toBe("k2");
    expect(Array.from(at(2).payload)).toEqual([0, 1, 2, 255]);
    expect(at(3).text()).toBe("bare string");
    for (const m of received.values()) expect(m.publishTime).toBeInstanceOf(Date);

    const group = await client.getGroup("round-trip", "g");
    expect(group.partitions.map((p) => p.committedOffset)).toEqual(group.partitions.map((p) => p.endOffset));
  });

  it("round-trips messages sent by a Publisher and acked on the stream", async () => {
    await client.createTopic("publisher-trip");
    const publisher = client.publisher("publisher-trip");
    const sent = await Promise.all(Array.from({ length: 50 }, (_, i) => publisher.send({ payload: `n${i}`, headers: { i: String(i) } })));
    await publisher.close();
    expect(sent.map((r) => r.offset)).toEqual(Array.from({ length: 50 }, (_, i) => BigInt(i)));

    const texts: string[] = [];
    const sub = client.subscribe("publisher-trip", "g", { consumerName: "reader" });
    for await (const m of sub) {
      texts.push(m.text());
      expect(m.headers.i).toBe(String(Number(m.offset)));
      expect(m.messageId).not.toBe("");
      m.ack();
      if (texts.length === 50) break;
    }
    expect(texts).toEqual(Array.from({ length: 50 }, (_, i) => `n${i}`));
    const group = await client.getGroup("publisher-trip", "g");
    expect(group.partitions[0]).toMatchObject({ committedOffset: 50n, lag: 0n, inFlight: 0 });
  });

  it("manages topics and groups with typed admin calls", async () => {
    const topic = await client.createTopic("admin-t", { partitions: 3, retentionMaxAgeMs: 3_600_000 });
    expect(topic).toMatchObject({ name: "admin-t", partitionCount: 3, retention: { maxAgeMs: 3_600_000, maxBytes: 0n } });
    const described = await client.getTopic("admin-t");
    expect(described.partitions.map((p) => [p.partition, p.startOffset, p.endOffset])).toEqual([
      [0, 0n, 0n],
      [1, 0n, 0n],
      [2, 0n, 0n],
    ]);
    expect((await client.listTopics()).map((t) => t.name)).toContain("admin-t");

    const group = await client.createGroup("admin-t", "workers", { ackDeadlineMs: 5000, start: "latest" });
    expect(group).toMatchObject({ topic: "admin-t", name: "workers", ackDeadlineMs: 5000 });
    expect((await client.listGroups("admin-t")).map((g) => g.name)).toEqual(["workers"]);
    await client.deleteGroup("admin-t", "workers");
    expect(await client.listGroups("admin-t")).toEqual([]);
    await client.deleteTopic("admin-t");
    expect((await client.listTopics()).map((t) => t.name)).not.toContain("admin-t");
  });

  it("rejects with SluiceError carrying the broker's code, never a grpc-js error", async () => {
    const missing = await client.getTopic("no-such-topic").catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(SluiceError);
    expect(missing).toMatchObject({ code: Code.NotFound });
    await client.createTopic("dup");
    await expect(client.createTopic("dup")).rejects.toMatchObject({ code: Code.AlreadyExists });
    await expect(client.createTopic("bad name!")).rejects.toMatchObject({ code: Code.InvalidArgument });
    await expect(client.publish("no-such-topic", ["x"])).rejects.toMatchObject({ code: Code.NotFound });
    const publisher = client.publisher("no-such-topic");
    await expect(publisher.send("x")).rejects.toMatchObject({ code: Code.NotFound });
    await publisher.close();
    const sub = client.subscribe("no-such-topic", "g");
    await expect(sub[Symbol.asyncIterator]().next()).rejects.toMatchObject({ code: Code.NotFound });
    expect(await sub.closed).toMatchObject({ code: Code.NotFound });
  });

  it("cancels a call whose signal aborts with CANCELLED", async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(client.listTopics({ signal: controller.signal })).rejects.toMatchObject({ code: Code.Cancelled });
  });

  it("reports an unreachable broker as UNAVAILABLE", async () => {
    const dead = new SluiceClient("127.0.0.1:1", { deadlineMs: 2000 });
    try {
      await expect(dead.listTopics()).rejects.toMatchObject({ code: Code.Unavailable });
    } finally {
      await dead.close();
    }
  });
});
