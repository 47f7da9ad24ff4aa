import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, SluiceClient } from "../../src/index.js";
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

describe("updateTopic", () => {
  it("grows the partition count and replaces retention and dedupe window, changing only what is given", async () => {
    const created = await client.createTopic("grow", { partitions: 1, dedupeWindowMs: 0 });
    expect(created.dedupeWindowMs).toBe(0);

    const updated = await client.updateTopic("grow", { partitions: 3, dedupeWindowMs: 60_000, retention: { maxAgeMs: 3_600_000 } });
    expect(updated).toMatchObject({ partitionCount: 3, dedupeWindowMs: 60_000, retention: { maxAgeMs: 3_600_000, maxBytes: 0n } });
    expect(updated.partitions.map((p) => p.partition)).toEqual([0, 1, 2]);

    const onlyDedupe = await client.updateTopic("grow", { dedupeWindowMs: 30_000 });
    expect(onlyDedupe).toMatchObject({ partitionCount: 3, dedupeWindowMs: 30_000, retention: { maxAgeMs: 3_600_000 } });
    expect((await client.getTopic("grow")).dedupeWindowMs).toBe(30_000);

    await expect(client.updateTopic("grow", { partitions: 2 })).rejects.toMatchObject({ code: Code.InvalidArgument });
    await expect(client.updateTopic("no-such-topic", { partitions: 2 })).rejects.toMatchObject({ code: Code.NotFound });
  });

  it("a publish repeating a message id within the window returns the first position as a duplicate", async () => {
    await client.createTopic("dedupe", { dedupeWindowMs: 60_000 });
    const [first] = await client.publish("dedupe", [{ payload: "once", messageId: "order-1" }]);
    const [again] = await client.publish("dedupe", [{ payload: "once", messageId: "order-1" }]);
    expect(first).toMatchObject({ duplicate: false });
    expect(again).toEqual({ partition: first!.partition, offset: first!.offset, duplicate: true });
    const topic = await client.getTopic("dedupe");
    expect(topic.partitions[0]).toMatchObject({ startOffset: 0n, endOffset: 1n });
    expect(topic.partitions[0]!.oldestPublishTime).toBeInstanceOf(Date);
    expect(typeof topic.partitions[0]!.bytes).toBe("bigint");
  });

  it("new partitions take keyed and explicit publishes, and existing groups read them", async () => {
    await client.createTopic("grow-groups");
    await client.createGroup("grow-groups", "g");
    await client.updateTopic("grow-groups", { partitions: 2 });
    const [r] = await client.publish("grow-groups", [{ payload: "p1", partition: 1 }]);
    expect(r!.partition).toBe(1);
    const [m] = await client.fetch("grow-groups", "g", { maxWaitMs: 5000 });
    expect([m?.partition, m?.text()]).toEqual([1, "p1"]);
    await m!.ack();
    const group = await client.getGroup("grow-groups", "g");
    expect(group.partitions.map((p) => p.committedOffset)).toEqual([0n, 1n]);
  });
});
