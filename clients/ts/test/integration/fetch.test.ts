import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, SluiceClient, type ReceivedMessage } from "../../src/index.js";
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

/** Fetches until `n` messages were leased. */
async function fetchN(topic: string, n: number): Promise<ReceivedMessage[]> {
  const out: ReceivedMessage[] = [];
  while (out.length < n) out.push(...(await client.fetch(topic, "g", { maxMessages: n - out.length, maxWaitMs: 5000 })));
  return out;
}

describe("fetch", () => {
  it("leases messages, acks and nacks them with unary calls, and redelivers the nacked one", async () => {
    await client.createTopic("pull");
    await client.createGroup("pull", "g");
    await client.publish("pull", ["a", "b", "c"]);
    const [a, b, c] = await fetchN("pull", 3);
    expect([a!.text(), b!.text(), c!.text()]).toEqual(["a", "b", "c"]);
    expect(a!.attempt).toBe(1);
    await Promise.all([a!.ack(), b!.ack(), c!.nack(0)]);

    const [again] = await fetchN("pull", 1);
    expect([again!.offset, again!.text(), again!.attempt]).toEqual([2n, "c", 2]);
    await again!.extend(10_000);
    await again!.ack();
    const group = await client.getGroup("pull", "g");
    expect(group.partitions[0]).toMatchObject({ committedOffset: 3n, lag: 0n, inFlight: 0, pendingRedelivery: 0 });
    expect(group.ignoredAcks).toBe(0n);
  });

  it("waits up to maxWaitMs for a message, and returns [] when none comes", async () => {
    await client.createTopic("pull-wait");
    await client.createGroup("pull-wait", "g");
    expect(await client.fetch("pull-wait", "g", { maxWaitMs: 100 })).toEqual([]);
    const waiting = client.fetch("pull-wait", "g", { maxWaitMs: 10_000 });
    await client.publish("pull-wait", ["late"]);
    const [late] = await waiting;
    expect(late?.text()).toBe("late");
    await late!.ack();
  });

  it("never leases a fetched message to a subscription of the same group meanwhile", async () => {
    await client.createTopic("pull-shared");
    await client.createGroup("pull-shared", "g");
    await client.publish("pull-shared", ["one", "two"]);
    const [fetched] = await client.fetch("pull-shared", "g");
    const sub = client.subscribe("pull-shared", "g");
    const it = sub[Symbol.asyncIterator]();
    const streamed = (await it.next()).value as ReceivedMessage;
    expect(streamed.offset).not.toBe(fetched!.offset);
    await Promise.all([fetched!.ack(), streamed.ack()]);
    await sub.close();
    const group = await client.getGroup("pull-shared", "g");
    expect(group.partitions[0]!.committedOffset).toBe(2n);
  });

  it("close() sends the verbs of fetched messages before closing the connection", async () => {
    await client.createTopic("pull-close");
    await client.createGroup("pull-close", "g");
    await client.publish("pull-close", ["x"]);
    const other = new SluiceClient(broker.address);
    const [m] = await other.fetch("pull-close", "g");
    void m!.ack();
    await other.close();
    await expect(m!.nack()).resolves.toBeUndefined(); // the first ack counts; this returns its promise
    expect((await client.getGroup("pull-close", "g")).partitions[0]!.committedOffset).toBe(1n);
    await expect(other.fetch("pull-close", "g")).rejects.toMatchObject({ code: Code.FailedPrecondition });
  });

  it("rejects a fetch from a group that does not exist with NOT_FOUND (fetch creates no groups)", async () => {
    await client.createTopic("pull-nogroup");
    await expect(client.fetch("pull-nogroup", "g")).rejects.toMatchObject({ code: Code.NotFound });
    await expect(client.fetch("pull-nogroup", "g", { maxMessages: 0 })).rejects.toMatchObject({ code: Code.InvalidArgument });
  });
});
