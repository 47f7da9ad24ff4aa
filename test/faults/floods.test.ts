import { status } from "@grpc/grpc-js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { BrokerProcess, cleanupBrokerProcesses } from "../helpers/broker-process.js";
import { AdminService, BrokerService, call, connect, type Clients } from "../helpers/grpc-clients.js";
import { TestSubscriber } from "../helpers/test-subscriber.js";
import { scale } from "./support/scale.js";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Runs `n` calls with at most `concurrency` in flight; resolves with each outcome's label. */
async function flood(n: number, concurrency: number, one: (i: number) => Promise<string>): Promise<string[]> {
  const out = new Array<string>(n);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        const i = next++;
        out[i] = await one(i);
      }
    }),
  );
  return out;
}

const codeOf = (p: Promise<unknown>) => p.then(
  () => "OK",
  (err: { code: number }) => status[err.code] ?? String(err.code),
);

/**
 * A bystander: publishes one message every 20 ms on its own connection and
 * receives them on another, recording how long each took. Shows whether the
 * broker keeps serving others during a flood.
 */
let bystanders = 0;
async function bystander(address: string, topic: string): Promise<{ stop(): Promise<{ sent: number; worstMs: number }> }> {
  const pub = connect(address, { ownConnection: true });
  const subConn = connect(address, { ownConnection: true });
  const sub = new TestSubscriber(subConn, { topic, group: `bystander-${bystanders++}`, maxInFlight: 1000, start: { kind: 2 /* LATEST */ } });
  await sub.opened();
  const sentAt = new Map<string, number>();
  let n = 0;
  const timer = setInterval(() => {
    const text = `b${n++}`;
    sentAt.set(text, Date.now());
    void call(pub.broker, BrokerService.method.publish, { topic, messages: [{ payload: enc.encode(text) }] });
  }, 20);
  let worstMs = 0;
  const reading = (async () => {
    for (;;) {
      const [d] = await sub.take(1, 60_000).catch(() => [undefined]);
      if (d === undefined) return;
      sub.ack([{ partition: d.message!.partition, offset: d.message!.offset }]);
      const text = dec.decode(d.message!.payload);
      const at = sentAt.get(text);
      if (at === undefined) throw new Error(`the bystander got ${text} twice or from elsewhere`);
      worstMs = Math.max(worstMs, Date.now() - at);
      sentAt.delete(text);
    }
  })();
  return {
    async stop() {
      clearInterval(timer);
      const sent = n;
      // Every message sent arrives.
      const deadline = Date.now() + 10_000;
      while (sentAt.size > 0 && Date.now() < deadline) await sub.ready(1000).catch(() => undefined).then(() => new Promise((r) => setImmediate(r)));
      const missing = sentAt.size;
      sub.cancel();
      await reading;
      pub.close();
      subConn.close();
      if (missing > 0) throw new Error(`${missing} of the bystander's ${sent} messages never arrived`);
      return { sent, worstMs };
    },
  };
}

describe("floods", () => {
  let p: BrokerProcess;
  beforeAll(async () => {
    p = await BrokerProcess.start();
    await call(p.clients.admin, AdminService.method.createTopic, { name: "exists" });
    await call(p.clients.admin, AdminService.method.createTopic, { name: "side" });
    await call(p.clients.admin, AdminService.method.createTopic, { name: "pubflood", partitions: 4 });
  });
  afterAll(async () => {
    await cleanupBrokerProcesses();
  });

  const CALLS = scale(20_000, 200_000);

  it(`answers ${CALLS} GetTopic calls (200 in flight) each with the right status while a bystander keeps publishing and consuming`, async () => {
    const side = await bystander(p.address, "side");
    const flooder: Clients = connect(p.address, { ownConnection: true });
    const kinds = ["exists", "missing", "bad/name"] as const;
    const started = Date.now();
    const codes = await flood(CALLS, 200, (i) => codeOf(call(flooder.admin, AdminService.method.getTopic, { name: kinds[i % 3] })));
    const ms = Date.now() - started;
    flooder.close();
    const { sent, worstMs } = await side.stop();
    const expected = ["OK", "NOT_FOUND", "INVALID_ARGUMENT"];
    const wrong = codes.filter((c, i) => c !== expected[i % 3]);
    console.log(`[faults] unary flood: ${CALLS} GetTopic in ${ms} ms; bystander's ${sent} messages, slowest ${worstMs} ms`);
    expect(wrong).toEqual([]);
    expect(worstMs).toBeLessThan(2000);
  });

  it(`stores every one of ${CALLS / 2} Publish calls (200 in flight) once, densely, while a bystander keeps going`, async () => {
    const side = await bystander(p.address, "side");
    const flooder: Clients = connect(p.address, { ownConnection: true });
    const codes = await flood(CALLS / 2, 200, (i) =>
      codeOf(call(flooder.broker, BrokerService.method.publish, { topic: "pubflood", messages: [{ payload: enc.encode(`f${i}`) }] })),
    );
    flooder.close();
    const { worstMs } = await side.stop();
    expect(codes.filter((c) => c !== "OK")).toEqual([]);
    const t = await call(p.clients.admin, AdminService.method.getTopic, { name: "pubflood" });
    expect(t.topic!.partitions.reduce((n, x) => n + x.endOffset, 0n)).toBe(BigInt(CALLS / 2));
    expect(worstMs).toBeLessThan(2000);
  });
});

describe("names with forbidden characters", () => {
  let p: BrokerProcess;
  beforeAll(async () => {
    p = await BrokerProcess.start();
    await call(p.clients.admin, AdminService.method.createTopic, { name: "valid" });
  });
  afterAll(async () => {
    await cleanupBrokerProcesses();
  });

  const allowed = /^[A-Za-z0-9._-]$/;
  const ascii = Array.from({ length: 128 }, (_, c) => String.fromCharCode(c));
  const forbidden = [...ascii.filter((ch) => !allowed.test(ch)), "é", "日", "\u{1F600}", "\u00A0", "\u2028"];

  it(`refuses each of the ${forbidden.length} forbidden characters in topic and group names on every call that takes one, with INVALID_ARGUMENT`, async () => {
    const { admin, broker } = p.clients;
    const wrong: string[] = [];
    for (const ch of forbidden) {
      const name = `a${ch}b`;
      const show = JSON.stringify(ch);
      const checks: Array<[string, Promise<string>]> = [
        ["CreateTopic", codeOf(call(admin, AdminService.method.createTopic, { name }))],
        ["GetTopic", codeOf(call(admin, AdminService.method.getTopic, { name }))],
        ["DeleteTopic", codeOf(call(admin, AdminService.method.deleteTopic, { name }))],
        ["Publish", codeOf(call(broker, BrokerService.method.publish, { topic: name, messages: [{ payload: enc.encode("x") }] }))],
        ["CreateGroup", codeOf(call(admin, AdminService.method.createGroup, { topic: "valid", group: name }))],
        ["GetGroup", codeOf(call(admin, AdminService.method.getGroup, { topic: "valid", group: name }))],
        ["Fetch", codeOf(call(broker, BrokerService.method.fetch, { topic: "valid", group: name }))],
        ["Ack", codeOf(call(broker, BrokerService.method.ack, { topic: "valid", group: name, positions: [] }))],
      ];
      for (const [what, promise] of checks) {
        const code = await promise;
        if (code !== "INVALID_ARGUMENT") wrong.push(`${what} of ${show}: ${code}`);
      }
      const sub = new TestSubscriber(p.clients, { topic: "valid", group: name });
      await sub.closed();
      if (sub.error?.code !== status.INVALID_ARGUMENT) wrong.push(`Subscribe with group ${show}: ${sub.error?.code ?? "opened"}`);
    }
    expect(wrong).toEqual([]);
    const list = await call(admin, AdminService.method.listTopics, { pageSize: 1000 });
    expect(list.topics.map((t) => t.name)).toEqual(["valid"]);
  });

  it("accepts every allowed character, alone and together, as topic and group names", async () => {
    const { admin } = p.clients;
    const names = [...ascii.filter((ch) => allowed.test(ch)).map((ch) => `n${ch}`), "A-z_0.9", "x".repeat(200)];
    for (const name of names) {
      await call(admin, AdminService.method.createTopic, { name });
      await call(admin, AdminService.method.createGroup, { topic: name, group: name });
    }
    const all = [];
    for (let token = ""; ; ) {
      const page = await call(admin, AdminService.method.listTopics, { pageSize: 1000, pageToken: token });
      all.push(...page.topics.map((t) => t.name));
      token = page.nextPageToken;
      if (token === "") break;
    }
    expect(all.sort()).toEqual([...names, "valid"].sort());
  });
});

describe("10,000 topics", () => {
  const TOPICS = 10_000;
  afterEach(async () => {
    await cleanupBrokerProcesses();
  });

  it("are created up to --max-topics, listed page by page, survive a restart, and the broker stays responsive", async () => {
    let p = await BrokerProcess.start({ args: ["--max-topics", String(TOPICS)] });
    const name = (i: number) => `topic-${String(i).padStart(5, "0")}`;
    const started = Date.now();
    const codes = await flood(TOPICS, 100, (i) => codeOf(call(p.clients.admin, AdminService.method.createTopic, { name: name(i), partitions: 1 + (i % 3) })));
    const createMs = Date.now() - started;
    expect(codes.filter((c) => c !== "OK")).toEqual([]);
    const over = await codeOf(call(p.clients.admin, AdminService.method.createTopic, { name: "one-more" }));
    expect(over).toBe("RESOURCE_EXHAUSTED");

    const listAll = async (clients: Clients) => {
      const names: string[] = [];
      for (let token = ""; ; ) {
        const page = await call(clients.admin, AdminService.method.listTopics, { pageSize: 1000, pageToken: token });
        names.push(...page.topics.map((t) => t.name));
        token = page.nextPageToken;
        if (token === "") return names;
      }
    };
    const expected = Array.from({ length: TOPICS }, (_, i) => name(i));
    expect(await listAll(p.clients)).toEqual(expected);

    // Still responsive: a round trip through the last topic.
    const t0 = Date.now();
    await call(p.clients.broker, BrokerService.method.publish, { topic: name(TOPICS - 1), messages: [{ payload: enc.encode("hi") }] });
    const sub = new TestSubscriber(p.clients, { topic: name(TOPICS - 1), group: "g" });
    expect(dec.decode((await sub.take(1))[0]!.message!.payload)).toBe("hi");
    const roundTripMs = Date.now() - t0;
    sub.cancel();

    const exit = await p.stop();
    expect(exit.code).toBe(0);
    const restartAt = Date.now();
    p = await p.restart();
    const restartMs = Date.now() - restartAt;
    expect(await listAll(p.clients)).toEqual(expected);
    const t = await call(p.clients.admin, AdminService.method.getTopic, { name: name(TOPICS - 1) });
    expect(t.topic!.partitionCount).toBe(1 + ((TOPICS - 1) % 3));
    console.log(`[faults] ${TOPICS} topics: created in ${createMs} ms, round trip ${roundTripMs} ms, restart to listening in ${restartMs} ms`);
    expect(restartMs).toBeLessThan(20_000);
  });
});
