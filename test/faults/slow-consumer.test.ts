import { randomBytes } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { BrokerProcess, cleanupBrokerProcesses } from "../helpers/broker-process.js";
import { AdminService, BrokerService, call, connect, type Clients } from "../helpers/grpc-clients.js";
import { TestSubscriber, positions } from "../helpers/test-subscriber.js";
import { TcpProxy } from "./support/tcp-proxy.js";
import { MiB, rssBytes, until } from "./support/wait.js";

const MESSAGE = 128 * 1024;
const BACKLOG = 400; // 50 MiB
const SLOW = 16;
const PENDING = 1 * MiB;
const BATCH = 1 * MiB; // the subscription's batch limit

const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
  await cleanupBrokerProcesses();
});

async function publishBacklog(clients: Clients, topic: string): Promise<void> {
  for (let i = 0; i < BACKLOG; i += 8) {
    await call(clients.broker, BrokerService.method.publish, {
      topic,
      messages: Array.from({ length: 8 }, () => ({ payload: randomBytes(MESSAGE) })),
    });
  }
}

/** Reads `n` deliveries, acking as it goes. */
async function drain(sub: TestSubscriber, n: number): Promise<void> {
  for (let got = 0; got < n; ) {
    const ds = await sub.take(Math.min(50, n - got), 30_000);
    sub.ack(positions(ds));
    got += ds.length;
  }
}

describe("consumers whose client stops reading", () => {
  it(
    `hold at most --max-pending-bytes plus one batch each in the broker (RSS bounded), ` +
      `while another consumer of the same group and one of another group keep receiving`,
    async () => {
      // Long keepalive: a client that does not read does not answer pings either.
      const p = await BrokerProcess.start({ args: ["--max-pending-bytes", String(PENDING), "--keepalive-ms", "600000"] });
      const { admin } = p.clients;
      await call(admin, AdminService.method.createTopic, { name: "big" });

      // Warm up: a first backlog read once, so the baseline includes LevelDB's and V8's working set.
      await publishBacklog(p.clients, "big");
      const warm = new TestSubscriber(p.clients, { topic: "big", group: "other", maxInFlight: 100 });
      await drain(warm, BACKLOG);
      const baseline = await rssBytes(p.child.pid!);

      // Slow streams, each in its own group (so each could take the whole
      // backlog), through a proxy that stops carrying the broker's bytes.
      const proxy = await TcpProxy.start(p.port);
      cleanup.push(() => proxy.close());
      const slowClients = Array.from({ length: SLOW }, () => connect(proxy.address, { ownConnection: true }));
      cleanup.push(() => slowClients.forEach((c) => c.close()));
      const slow = slowClients.map(
        (c, i) => new TestSubscriber(c, { topic: "big", group: `slow-${i}`, maxInFlight: 100_000, start: { kind: 2 /* LATEST */ } }),
      );
      await Promise.all(slow.map((s) => s.opened()));
      proxy.freeze("to-client");

      // One healthy consumer shares group slow-0; "other" is another group.
      const sameGroup = new TestSubscriber(p.clients, { topic: "big", group: "slow-0", maxInFlight: 100 });
      await sameGroup.opened();
      await publishBacklog(p.clients, "big");
      await drain(warm, BACKLOG);

      // The slow streams stop taking messages once their pending bytes are full.
      const inFlight = async () =>
        Promise.all(
          slow.map(async (s, i) => {
            const g = await call(admin, AdminService.method.getGroup, { topic: "big", group: `slow-${i}` });
            return g.group!.consumers.find((c) => c.id === s.subscribed!.consumerId)!.inFlight;
          }),
        );
      let last = "";
      const settled = await until(
        "the slow streams to stop taking messages",
        inFlight,
        (counts) => {
          const key = counts.join(",");
          const same = key === last;
          last = key;
          return same;
        },
        { timeoutMs: 20_000, intervalMs: 500 },
      );
      // The rest of slow-0's backlog reaches the healthy consumer of that group.
      expect(settled[0]).toBeGreaterThan(0);
      await drain(sameGroup, BACKLOG - settled[0]!);

      const grown = (await rssBytes(p.child.pid!)) - baseline;
      const leasedBytes = settled.map((n) => n * MESSAGE);
      console.log(
        `[faults] slow consumers: ${SLOW} streams not read, in flight ${settled.join(",")} messages ` +
          `(${(leasedBytes.reduce((a, b) => a + b, 0) / MiB).toFixed(1)} MiB incl. socket buffers); broker RSS grew ${(grown / MiB).toFixed(1)} MiB`,
      );
      // A slow stream is handed what fits its pending bytes, one batch more,
      // and what HTTP/2 flow control let out (a 64 KiB window); without the
      // bound it would take the whole 50 MiB backlog.
      for (const n of settled) expect(n * MESSAGE).toBeLessThanOrEqual(PENDING + BATCH + MiB);
      // The broker holds at most PENDING + one batch per slow stream; 128 MiB for the rest: reading
      // 100 MiB for the healthy consumers meanwhile leaves garbage that V8 and the allocator give back lazily.
      expect(grown).toBeLessThan(SLOW * (PENDING + BATCH) + 128 * MiB);
    },
  );
});
