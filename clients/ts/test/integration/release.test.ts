import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SluiceClient, type GroupInfo } from "../../src/index.js";
import { startBroker, type BrokerProcess } from "../helpers/broker-process.js";

let broker: BrokerProcess;
let client: SluiceClient;

beforeAll(async () => {
  broker = await startBroker();
  client = new SluiceClient(broker.address);
  await client.createTopic("release", { partitions: 2 });
  await client.publish("release", Array.from({ length: 20 }, (_, i) => `m${i}`));
});

afterAll(async () => {
  await client?.close();
  await broker?.stop();
});

const inFlight = (g: GroupInfo) => g.partitions.reduce((n, p) => n + p.inFlight, 0);

describe("releasing the stream", () => {
  it("break in for-await ends the stream: the consumer leaves the group and its unacked messages go back", async () => {
    const sub = client.subscribe("release", "breakers", { consumerName: "breaker" });
    let consumerId = "";
    for await (const m of sub) {
      consumerId = sub.consumerId;
      const during = await client.getGroup("release", "breakers");
      expect(during.consumers.map((c) => c.id)).toEqual([consumerId]);
      expect(during.consumers[0]!.name).toBe("breaker");
      expect(inFlight(during)).toBeGreaterThan(0);
      m.ack();
      break;
    }
    // The loop's exit awaited close(): the broker has ended the stream.
    expect(await sub.closed).toBeUndefined();
    const after = await client.getGroup("release", "breakers");
    expect(after.consumers).toEqual([]);
    expect(inFlight(after)).toBe(0);

    // The 19 unacked messages are at once available to the next consumer, on their second attempt.
    const next = client.subscribe("release", "breakers");
    const attempts: number[] = [];
    for await (const m of next) {
      attempts.push(m.attempt);
      m.ack();
      if (attempts.length === 19) break;
    }
    expect(attempts.every((a) => a === 2)).toBe(true);
  });

  it("an aborted signal ends the stream and process() resolves", async () => {
    const controller = new AbortController();
    const sub = client.subscribe("release", "aborters", { signal: controller.signal });
    let handled = 0;
    const processing = sub.process(async (m) => {
      handled++;
      m.ack();
      if (handled === 3) controller.abort();
    });
    await processing;
    expect(await sub.closed).toBeUndefined();
    expect(handled).toBeGreaterThanOrEqual(3);
    const after = await client.getGroup("release", "aborters");
    expect(after.consumers).toEqual([]);
    expect(inFlight(after)).toBe(0);
    // The acks written before the stream ended were applied.
    const acked = after.partitions.reduce((n, p) => n + p.committedOffset + p.ackedAboveCommitted, 0n);
    expect(acked).toBe(BigInt(handled));
  });

  it("close() of the client ends its subscriptions", async () => {
    const other = new SluiceClient(broker.address);
    const sub = other.subscribe("release", "closers");
    const first = await sub[Symbol.asyncIterator]().next();
    expect(first.done).toBe(false);
    await other.close();
    expect(await sub.closed).toBeUndefined();
    const after = await client.getGroup("release", "closers");
    expect(after.consumers).toEqual([]);
    expect(inFlight(after)).toBe(0);
  });
});
