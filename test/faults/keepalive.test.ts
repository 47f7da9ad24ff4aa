import { afterEach, describe, expect, it } from "vitest";
import { type ConnectionStatus, SluiceClient } from "../../clients/ts/src/index.js";
import { BrokerProcess, cleanupBrokerProcesses } from "../helpers/broker-process.js";
import { AdminService, BrokerService, call, connect } from "../helpers/grpc-clients.js";
import { TestSubscriber } from "../helpers/test-subscriber.js";
import { scale } from "./support/scale.js";
import { TcpProxy } from "./support/tcp-proxy.js";
import { until, withTimeout } from "./support/wait.js";

const KEEPALIVE_MS = 1000;
const KEEPALIVE_TIMEOUT_MS = 1000;
/** A dead peer is noticed within one ping interval plus the ping timeout; the rest is slack for a busy CI machine. */
const DETECT_BOUND_MS = KEEPALIVE_MS + KEEPALIVE_TIMEOUT_MS + 2000;
const IDLE_MS = scale(5000, 60_000);
const enc = new TextEncoder();

const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
  await cleanupBrokerProcesses();
});

async function broker(): Promise<BrokerProcess> {
  const p = await BrokerProcess.start({ args: ["--keepalive-ms", String(KEEPALIVE_MS), "--keepalive-timeout-ms", String(KEEPALIVE_TIMEOUT_MS)] });
  await call(p.clients.admin, AdminService.method.createTopic, { name: "k" });
  return p;
}

const publish = (p: BrokerProcess, text: string) =>
  call(p.clients.broker, BrokerService.method.publish, { topic: "k", messages: [{ payload: enc.encode(text) }] });

describe("keepalive", () => {
  it(`keeps idle Subscribe streams open (${IDLE_MS / 1000} s without a message, pings both ways) and delivers on them afterwards`, async () => {
    const p = await broker();
    const proxy = await TcpProxy.start(p.port);
    cleanup.push(() => proxy.close());
    // A raw stream, and a TypeScript client with its own keepalive, both over a real TCP hop.
    const raw = connect(proxy.address, { ownConnection: true });
    cleanup.push(() => raw.close());
    const sub = new TestSubscriber(raw, { topic: "k", group: "raw" });
    await sub.opened();
    const client = new SluiceClient(proxy.address, { keepaliveTimeMs: KEEPALIVE_MS, keepaliveTimeoutMs: KEEPALIVE_TIMEOUT_MS });
    cleanup.push(() => client.close());
    const ts = client.subscribe("k", "ts");
    const events: ConnectionStatus[] = [];
    void (async () => {
      for await (const e of ts.status()) events.push(e);
    })();
    const iterator = ts[Symbol.asyncIterator]();
    await until("the TypeScript subscription to connect", () => ts.consumerId, (id) => id !== "", { timeoutMs: 10_000 });
    const consumerId = ts.consumerId;

    // Idle on purpose: this test is about time passing with nothing to send.
    await new Promise((r) => setTimeout(r, IDLE_MS));

    await publish(p, "after the quiet");
    const [d] = await sub.take(1);
    expect(new TextDecoder().decode(d!.message!.payload)).toBe("after the quiet");
    const m = await withTimeout(iterator.next(), 10_000, "the TypeScript subscription's message");
    expect(m.value?.text()).toBe("after the quiet");
    expect(sub.ended).toBe(false);
    expect(ts.consumerId, "the TypeScript subscription never reconnected").toBe(consumerId);
    expect(events.filter((e) => e.type !== "connected")).toEqual([]);
    expect(proxy.connections).toBe(2); // the same two connections all along
  });

  it(`notices a peer that stopped answering within ${DETECT_BOUND_MS} ms, drops its consumer and redelivers its messages to another`, async () => {
    const p = await broker();
    for (let i = 0; i < 10; i++) await publish(p, `m${i}`);
    const proxy = await TcpProxy.start(p.port);
    cleanup.push(() => proxy.close());
    const deadConn = connect(proxy.address, { ownConnection: true });
    cleanup.push(() => deadConn.close());
    const dead = new TestSubscriber(deadConn, { topic: "k", group: "g", maxInFlight: 10 });
    const held = await dead.take(10);
    const alive = new TestSubscriber(p.clients, { topic: "k", group: "g", maxInFlight: 10 });
    await alive.opened();

    // The peer hangs: no FIN, no RST, no bytes either way.
    proxy.freeze();
    const frozenAt = Date.now();
    const redelivered = await alive.take(10, DETECT_BOUND_MS + 5000);
    const elapsed = Date.now() - frozenAt;
    expect(redelivered.map((d) => d.message!.offset).sort()).toEqual(held.map((d) => d.message!.offset).sort());
    expect(redelivered.every((d) => d.attempt === 2)).toBe(true);
    const g = await call(p.clients.admin, AdminService.method.getGroup, { topic: "k", group: "g" });
    expect(g.group!.consumers.map((c) => c.id)).toEqual([alive.subscribed!.consumerId]);
    console.log(`[faults] keepalive: a hung peer's 10 leases went to another consumer ${elapsed} ms after it stopped answering`);
    expect(elapsed).toBeLessThan(DETECT_BOUND_MS);
  });

  it("lets a TypeScript client notice a broker that stopped answering and reconnect on its own", async () => {
    const p = await broker();
    const proxy = await TcpProxy.start(p.port);
    cleanup.push(() => proxy.close());
    const client = new SluiceClient(proxy.address, {
      keepaliveTimeMs: KEEPALIVE_MS,
      keepaliveTimeoutMs: KEEPALIVE_TIMEOUT_MS,
      reconnect: { initialDelayMs: 50, maxDelayMs: 200 },
    });
    cleanup.push(() => client.close());
    const ts = client.subscribe("k", "g");
    const statuses = ts.status();
    await until("the subscription to connect", () => ts.consumerId, (id) => id !== "", { timeoutMs: 10_000 });
    const frozenAt = Date.now();
    proxy.freeze();
    for (;;) {
      const e = await withTimeout(statuses.next(), DETECT_BOUND_MS + 5000, "a disconnected status");
      if (e.value?.type === "disconnected") break;
    }
    const elapsed = Date.now() - frozenAt;
    console.log(`[faults] keepalive: the TypeScript client noticed the hung connection after ${elapsed} ms`);
    expect(elapsed).toBeLessThan(DETECT_BOUND_MS);
    // Once the network carries bytes again, it is back on a new connection and gets messages.
    proxy.thaw();
    for (;;) {
      const e = await withTimeout(statuses.next(), 15_000, "a connected status");
      if (e.value?.type === "connected") break;
    }
    await publish(p, "back");
    const m = await withTimeout(ts[Symbol.asyncIterator]().next(), 10_000, "a message after reconnecting");
    expect(m.value?.text()).toBe("back");
  });
});
