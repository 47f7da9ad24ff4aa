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

/** Work that takes `ms`: the slowness under test, not synchronisation. */
const work = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("lease auto-extension", () => {
  it("keeps a message slower than the 1 s ack deadline from being redelivered", async () => {
    await client.createTopic("slow");
    await client.createGroup("slow", "g", { ackDeadlineMs: 1000 });
    await client.publish("slow", ["slow job"]);

    const deliveries: ReceivedMessage[] = [];
    let firstDone!: () => void;
    const firstFinished = new Promise<void>((r) => (firstDone = r));
    const sub = client.subscribe("slow", "g");
    const processing = sub.process(
      async (m) => {
        deliveries.push(m);
        await work(3500);
        if (m === deliveries[0]) firstDone();
      },
      // A second worker picks up a redelivery while the first still works:
      // had the lease lapsed at 1 s, it would be seen long before 3.5 s.
      { concurrency: 2 },
    );
    await firstFinished;
    await sub.close();
    await processing;

    expect(deliveries.map((m) => m.attempt)).toEqual([1]);
    const group = await client.getGroup("slow", "g");
    expect(group.ackDeadlineMs).toBe(1000);
    expect(group.partitions[0]).toMatchObject({ committedOffset: 1n, inFlight: 0, pendingRedelivery: 0 });
    // The ack reached a live lease: it was not ignored as late.
    expect(group.ignoredAcks).toBe(0n);
  });

  it("without auto-extension the same slow message is redelivered after the deadline (control)", async () => {
    await client.createTopic("slow-control");
    await client.createGroup("slow-control", "g", { ackDeadlineMs: 1000 });
    await client.publish("slow-control", ["slow job"]);

    const sub = client.subscribe("slow-control", "g", { maxLeaseMs: 0 });
    const it = sub[Symbol.asyncIterator]();
    const first = (await it.next()).value as ReceivedMessage;
    // Hold the first delivery unsettled; the broker redelivers once its lease ends.
    const second = (await it.next()).value as ReceivedMessage;
    expect([first.attempt, second.attempt]).toEqual([1, 2]);
    expect(second.offset).toBe(first.offset);
    second.ack();
    await sub.close();
  });
});
