import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SluiceClient, type ReceivedMessage } from "../../src/index.js";
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

describe("consumer group delivery when nothing fails", () => {
  it("delivers every message exactly once across the group's subscriptions, each on its first attempt", async () => {
    const N = 6000;
    await client.createTopic("once", { partitions: 3 });
    await client.createGroup("once", "workers");

    const received: ReceivedMessage[] = [];
    let resolveAll!: () => void;
    const all = new Promise<void>((r) => (resolveAll = r));
    const handler = async (m: ReceivedMessage): Promise<void> => {
      received.push(m);
      if (received.length === N) resolveAll();
    };
    const subs = [
      client.subscribe("once", "workers", { consumerName: "a", maxInFlight: 200 }),
      client.subscribe("once", "workers", { consumerName: "b", maxInFlight: 200 }),
    ];
    const processing = subs.map((s) => s.process(handler, { concurrency: 8 }));

    // Publish while the group consumes.
    const publisher = client.publisher("once");
    const results = await Promise.all(Array.from({ length: N }, (_, i) => publisher.send(`m${i}`)));
    await publisher.close();
    await all;

    // Both subscriptions' acks reach the broker when they close.
    await Promise.all(subs.map((s) => s.close()));
    await Promise.all(processing);

    const keys = received.map((m) => `${m.partition}:${m.offset}`);
    expect(new Set(keys).size).toBe(N);
    expect(keys.length).toBe(N);
    expect(new Set(received.map((m) => m.text()))).toEqual(new Set(results.map((_, i) => `m${i}`)));
    expect(received.every((m) => m.attempt === 1)).toBe(true);

    const group = await client.getGroup("once", "workers");
    for (const p of group.partitions) {
      expect(p).toMatchObject({ lag: 0n, inFlight: 0, pendingRedelivery: 0 });
      expect(p.committedOffset).toBe(p.endOffset);
    }
    expect(group.ignoredAcks).toBe(0n);
    expect(group.consumers).toEqual([]);
  });
});
