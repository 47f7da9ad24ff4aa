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

describe("ordered groups through the client", () => {
  it("delivers each key in offset order, one message at a time, across two subscriptions, also when one leaves", async () => {
    await client.createTopic("ordered", { partitions: 2 });
    const created = await client.createGroup("ordered", "g", { ordered: true });
    expect(created.ordered).toBe(true);
    const keys = ["a", "b", "c", "d", "e"];
    const perKey = 12;
    await client.publish(
      "ordered",
      Array.from({ length: keys.length * perKey }, (_, i) => {
        const key = keys[i % keys.length]!;
        return { key, payload: `${key}:${Math.floor(i / keys.length)}` };
      }),
    );

    const next = new Map(keys.map((k) => [k, 0]));
    const handling = new Set<string>();
    const violations: string[] = [];
    let handled = 0;
    let allHandled!: () => void;
    const done = new Promise<void>((r) => (allHandled = r));
    const s1 = client.subscribe("ordered", "g", { consumerName: "s1" });
    const s2 = client.subscribe("ordered", "g", { consumerName: "s2" });
    const handler = async (m: ReceivedMessage): Promise<void> => {
      const [key, n] = m.text().split(":");
      if (handling.has(key!)) violations.push(`${m.text()} delivered while an earlier ${key} was unacked`);
      if (Number(n) !== next.get(key!)) violations.push(`${m.text()} delivered, expected ${key}:${next.get(key!)}`);
      handling.add(key!);
      // Let other deliveries interleave while this one is in the handler.
      await new Promise((r) => setImmediate(r));
      handling.delete(key!);
      next.set(key!, Number(n) + 1);
      handled++;
      // s2 leaves half-way; messages it holds go back and their keys move to s1.
      if (handled === (keys.length * perKey) / 2) void s2.close();
      if (handled === keys.length * perKey) allHandled();
    };
    const running = [s1.process(handler, { concurrency: 4 }), s2.process(handler, { concurrency: 4 })];
    await done;
    await s1.close();
    await Promise.all(running);

    expect(violations).toEqual([]);
    expect([...next.values()]).toEqual(keys.map(() => perKey));
    const group = await client.getGroup("ordered", "g");
    expect(group.partitions.map((p) => p.committedOffset)).toEqual(group.partitions.map((p) => p.endOffset));
    expect(group.blockedKeys).toBe(0n);
  });

  it("shows the blocked key while its earlier message is unacknowledged", async () => {
    await client.createTopic("ordered-blocked");
    await client.createGroup("ordered-blocked", "g", { ordered: true });
    await client.publish("ordered-blocked", [{ key: "k", payload: "1" }, { key: "k", payload: "2" }, "no key"]);
    const sub = client.subscribe("ordered-blocked", "g", { confirmAcks: true });
    const it = sub[Symbol.asyncIterator]();
    const first = (await it.next()).value as ReceivedMessage;
    const free = (await it.next()).value as ReceivedMessage;
    expect([first.text(), free.text()]).toEqual(["1", "no key"]);
    const group = await client.getGroup("ordered-blocked", "g");
    expect(group).toMatchObject({ blockedKeys: 1n, oldestBlockedKey: "k" });
    await first.ack();
    const second = (await it.next()).value as ReceivedMessage;
    expect(second.text()).toBe("2");
    await Promise.all([free.ack(), second.ack()]);
    await sub.close();
  });
});

describe("dead letters through the client", () => {
  it("publishes a message to the dead-letter topic after maxDeliveries attempts, with headers naming its origin", async () => {
    await client.createTopic("dl-src");
    await client.createTopic("dl-dlq");
    const group = await client.createGroup("dl-src", "g", { maxDeliveries: 2, deadLetterTopic: "dl-dlq" });
    expect(group).toMatchObject({ maxDeliveries: 2, deadLetterTopic: "dl-dlq" });
    await client.publish("dl-src", [{ key: "p", payload: "poison", headers: { origin: "test" } }]);

    const attempts: number[] = [];
    const source = client.subscribe("dl-src", "g");
    const consuming = source.process((m) => {
      attempts.push(m.attempt);
      throw new Error("cannot handle this");
    });
    let dead: ReceivedMessage | undefined;
    for await (const m of client.subscribe("dl-dlq", "reader")) {
      dead = m;
      m.ack();
      break;
    }
    await source.close();
    await consuming;

    expect(attempts).toEqual([1, 2]);
    expect(dead?.text()).toBe("poison");
    expect(dead?.key).toBe("p");
    expect(dead?.headers).toEqual({
      origin: "test",
      "sluice-original-topic": "dl-src",
      "sluice-original-partition": "0",
      "sluice-original-offset": "0",
      "sluice-original-group": "g",
      "sluice-attempts": "2",
      "sluice-dead-letter-reason": "nack",
    });
    const after = await client.getGroup("dl-src", "g");
    expect(after.partitions[0]).toMatchObject({ committedOffset: 1n, deadLettered: 1n, dropped: 0n, inFlight: 0 });
  });
});

describe("group settings", () => {
  it("subscribe creates a group with the settings given; updateGroup changes only the given ones on the live group", async () => {
    await client.createTopic("settings");
    await client.createTopic("settings-dlq");
    const sub = client.subscribe("settings", "g", { ackDeadlineMs: 5000, retryBackoff: { minMs: 100, maxMs: 2000 }, maxDeliveries: 7 });
    await client.publish("settings", ["x"]);
    for await (const m of sub) {
      await m.ack();
      break;
    }
    const created = await client.getGroup("settings", "g");
    expect(created).toMatchObject({ ackDeadlineMs: 5000, ordered: false, retryBackoff: { minMs: 100, maxMs: 2000 }, maxDeliveries: 7, deadLetterTopic: "" });

    const updated = await client.updateGroup("settings", "g", { ordered: true, deadLetterTopic: "settings-dlq" });
    expect(updated).toMatchObject({ ackDeadlineMs: 5000, ordered: true, retryBackoff: { minMs: 100, maxMs: 2000 }, maxDeliveries: 7, deadLetterTopic: "settings-dlq" });
    expect((await client.getGroup("settings", "g")).deadLetterTopic).toBe("settings-dlq");
    await expect(client.updateGroup("settings", "g", { deadLetterTopic: "no-such-topic" })).rejects.toMatchObject({ code: 5 });
  });
});
