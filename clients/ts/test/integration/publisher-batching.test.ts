import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SluiceClient } from "../../src/index.js";
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

describe("Publisher batching", () => {
  it("resolves each of 10 000 concurrent sends with the true position of its message", async () => {
    const N = 10_000;
    await client.createTopic("batching", { partitions: 4 });
    const publisher = client.publisher("batching");
    // All sends are made in one synchronous burst, before any is confirmed.
    const sends = Array.from({ length: N }, (_, i) => publisher.send({ key: `key-${i % 97}`, payload: `message-${i}` }));
    const results = await Promise.all(sends);
    await publisher.close();

    // Positions are unique and dense per partition.
    const byPartition = new Map<number, bigint[]>();
    for (const r of results) byPartition.set(r.partition, [...(byPartition.get(r.partition) ?? []), r.offset]);
    expect(byPartition.size).toBe(4);
    for (const offsets of byPartition.values()) {
      const sorted = [...offsets].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      expect(sorted).toEqual(sorted.map((_, i) => BigInt(i)));
    }

    // The message stored at each returned position is the one that was sent.
    const stored = new Map<string, string>();
    for await (const m of client.subscribe("batching", "verify", { maxInFlight: 5000 })) {
      stored.set(`${m.partition}:${m.offset}`, m.text());
      m.ack();
      if (stored.size === N) break;
    }
    results.forEach((r, i) => expect(stored.get(`${r.partition}:${r.offset}`)).toBe(`message-${i}`));
    // Same key, same partition.
    const partitionOfKey = new Map<number, number>();
    results.forEach((r, i) => {
      const k = i % 97;
      expect(partitionOfKey.get(k) ?? r.partition).toBe(r.partition);
      partitionOfKey.set(k, r.partition);
    });
  });
});
