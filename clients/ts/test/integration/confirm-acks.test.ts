import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SluiceClient, type ReceivedMessage } from "../../src/index.js";
import { startBroker, type BrokerProcess } from "../helpers/broker-process.js";

let broker: BrokerProcess;

beforeAll(async () => {
  broker = await startBroker();
});

afterAll(async () => {
  await broker?.stop();
});

describe("confirmed acks", () => {
  it("resolve once durable: GetGroup then shows them committed, also after the broker is killed", async () => {
    const client = new SluiceClient(broker.address);
    await client.createTopic("durable", { partitions: 2 });
    const sent = await client.publish(
      "durable",
      Array.from({ length: 40 }, (_, i) => ({ payload: `m${i}`, partition: i % 2 })),
    );
    const sub = client.subscribe("durable", "g", { confirmAcks: true });
    const confirmations: Promise<void>[] = [];
    const received: ReceivedMessage[] = [];
    for await (const m of sub) {
      received.push(m);
      confirmations.push(m.ack());
      if (received.length === sent.length) break;
    }
    await Promise.all(confirmations);
    const group = await client.getGroup("durable", "g");
    expect(group.partitions.map((p) => p.committedOffset)).toEqual([20n, 20n]);
    expect(group.ignoredAcks).toBe(0n);
    await client.close();

    // Confirmed means durable: a crash right after loses none of them.
    await broker.kill();
    await broker.restart();
    const after = new SluiceClient(broker.address);
    try {
      const restored = await after.getGroup("durable", "g");
      expect(restored.partitions.map((p) => p.committedOffset)).toEqual([20n, 20n]);
    } finally {
      await after.close();
    }
  });

  it("close() waits for the confirmation of the last acks before ending the stream", async () => {
    const client = new SluiceClient(broker.address);
    try {
      await client.createTopic("durable-close");
      await client.publish("durable-close", ["last"]);
      const sub = client.subscribe("durable-close", "g", { confirmAcks: true });
      let confirmed: Promise<void> | undefined;
      for await (const m of sub) {
        confirmed = m.ack();
        break; // closes the subscription at once, with the ack not yet written
      }
      await expect(confirmed).resolves.toBeUndefined();
      expect((await client.getGroup("durable-close", "g")).partitions[0]!.committedOffset).toBe(1n);
    } finally {
      await client.close();
    }
  });
});
