import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Actor, type Language, waitUntil } from "./support/actor.js";
import { BrokerProcess } from "./support/broker-process.js";
import { eventually, TsClient, TsConsumer } from "./support/sluice-ts.js";

let broker: BrokerProcess;
let ts: TsClient;
const actors: Actor[] = [];
let seq = 0;

beforeAll(async () => {
  broker = await BrokerProcess.start();
  ts = new TsClient(broker.address);
});

afterAll(async () => {
  await Promise.all(actors.map((a) => a.kill()));
  ts?.close();
  await broker?.stop();
});

function actor(language: Language, ...args: string[]): Actor {
  const a = Actor.start(language, [args[0]!, "--address", broker.address, ...args.slice(1)]);
  actors.push(a);
  return a;
}

async function newTopic(partitions = 1): Promise<string> {
  const name = `interop-${Date.now()}-${seq++}`;
  await ts.createTopic(name, partitions);
  return name;
}

async function committedOffsets(topic: string, group: string): Promise<bigint[]> {
  return (await ts.getGroup(topic, group)).partitions.map((p) => p.committedOffset);
}

function committedReaches(topic: string, group: string, want: bigint[]) {
  return eventually(`${group} committed offsets ${want.join(",")}`, async () =>
    (await committedOffsets(topic, group)).join(",") === want.join(","),
  );
}

describe.each<Language>(["python", "go"])("TypeScript and %s", (language) => {
  it(`a message published from TypeScript is consumed and acked from ${language}`, async () => {
    const topic = await newTopic();
    await ts.publish(topic, [0, 1, 2].map((i) => ({ payload: `ts-${i}`, key: `k${i}`, headers: { lang: "ts" }, messageId: `ts-${i}` })));

    const consumer = actor(language, "consume", "--topic", topic, "--group", "g", "--count", "3");
    const events = await consumer.success();

    expect(consumer.messages().map((m) => [m.offset, m.payload, m.key, m.headers, m.messageId, m.attempt])).toEqual(
      [0, 1, 2].map((i) => [i, `ts-${i}`, `k${i}`, { lang: "ts" }, `ts-${i}`, 1]),
    );
    expect(events.at(-1)).toEqual({ event: "closed", received: 3 });
    await committedReaches(topic, "g", [3n]);
  });

  it(`a message published from ${language} is consumed and acked by a TypeScript consumer`, async () => {
    const topic = await newTopic();
    const published = await actor(language, "publish", "--topic", topic, "--count", "3", "--prefix", language).success();
    expect(published.map((e) => [e.partition, e.offset])).toEqual([[0, 0], [0, 1], [0, 2]]);

    const consumer = await TsConsumer.open(ts, topic, "g");
    for (let i = 0; i < 3; i++) {
      const d = await consumer.next();
      const m = d.message!;
      expect([m.offset, new TextDecoder().decode(m.payload), m.key, m.headers, m.messageId, d.attempt]).toEqual([
        BigInt(i), `${language}-${i}`, `k${i}`, { lang: language, i: String(i) }, `${language === "python" ? "py" : "go"}-${i}`, 1,
      ]);
      consumer.ack([{ $typeName: "sluice.v1.Position", partition: m.partition, offset: m.offset }]);
    }
    expect(await consumer.close()).toBe(0);
    await committedReaches(topic, "g", [3n]);
  });
});

it("the group's committed offset reflects acks from TypeScript, Python and Go", async () => {
  const topic = await newTopic();
  const group = "all-three";

  // Round 1: TypeScript publishes two messages and acks them.
  await ts.publish(topic, [{ payload: "ts-0" }, { payload: "ts-1" }]);
  const tsConsumer = await TsConsumer.open(ts, topic, group, 2);
  for (let i = 0; i < 2; i++) {
    const m = (await tsConsumer.next()).message!;
    expect(m.offset).toBe(BigInt(i));
    tsConsumer.ack([{ $typeName: "sluice.v1.Position", partition: m.partition, offset: m.offset }]);
  }
  expect(await tsConsumer.close()).toBe(0);
  await committedReaches(topic, group, [2n]);

  // Rounds 2 and 3: Python, then Go, each publishes two and acks two.
  let next = 2;
  for (const language of ["python", "go"] as const) {
    await actor(language, "publish", "--topic", topic, "--count", "2", "--prefix", language).success();
    const consumer = actor(language, "consume", "--topic", topic, "--group", group, "--count", "2", "--max-in-flight", "2");
    await consumer.success();
    expect(consumer.messages().map((m) => [m.offset, m.payload])).toEqual([
      [next, `${language}-0`],
      [next + 1, `${language}-1`],
    ]);
    next += 2;
    await committedReaches(topic, group, [BigInt(next)]);
  }

  const final = await ts.getGroup(topic, group);
  expect(final.partitions[0]).toMatchObject({ committedOffset: 6n, endOffset: 6n, lag: 0n, inFlight: 0 });
});

it("a Python consumer and a Go consumer in the same group share a topic's messages with none lost", async () => {
  const topic = await newTopic(4);
  const group = "shared";
  const total = 200;
  const py = actor("python", "consume", "--topic", topic, "--group", group, "--max-in-flight", "10");
  const go = actor("go", "consume", "--topic", topic, "--group", group, "--max-in-flight", "10");
  await py.waitFor((e) => e.event === "subscribed", "subscribed");
  await go.waitFor((e) => e.event === "subscribed", "subscribed");

  const results = await ts.publish(
    topic,
    Array.from({ length: total }, (_, i) => ({ payload: `shared-${i}`, key: `key-${i % 17}` })),
  );
  const published = new Set(results.map((r) => `${r.partition}/${r.offset}`));
  expect(published.size).toBe(total);

  // Wait until the two consumers together have acked every message.
  await waitUntil([py, go], () => (py.messages().length + go.messages().length >= total ? true : undefined), `${total} messages`);
  py.closeStdin();
  go.closeStdin();
  await Promise.all([py.success(), go.success()]);

  const seen = [...py.messages(), ...go.messages()].map((m) => `${m.partition}/${m.offset}`);
  expect(new Set(seen)).toEqual(published); // none lost
  expect(seen).toHaveLength(total); // none delivered twice
  expect(py.messages().length).toBeGreaterThan(0); // shared: both got some
  expect(go.messages().length).toBeGreaterThan(0);

  const ends = new Map<number, bigint>();
  for (const r of results) ends.set(r.partition, (ends.get(r.partition) ?? 0n) + 1n);
  await committedReaches(topic, group, [0, 1, 2, 3].map((p) => ends.get(p) ?? 0n));
});
