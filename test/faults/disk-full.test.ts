import { randomBytes } from "node:crypto";
import { open, rm, truncate } from "node:fs/promises";
import path from "node:path";
import { status } from "@grpc/grpc-js";
import { afterEach, describe, expect, it } from "vitest";
import { BrokerProcess, cleanupBrokerProcesses } from "../helpers/broker-process.js";
import { AdminService, BrokerService, call, connect } from "../helpers/grpc-clients.js";
import { TestSubscriber, positions } from "../helpers/test-subscriber.js";
import { readLog } from "./support/scenario.js";
import { mountTmpfs, type Tmpfs } from "./support/tmpfs.js";
import { until } from "./support/wait.js";
import { Broker } from "../../src/broker/broker.js";
import { silentLogger } from "../../src/broker/logger.js";
import { protobufRecordCodec } from "../../src/server/record-codec.js";
import { startGrpcServer } from "../../src/server/server.js";
import { MemoryStorage } from "../../src/storage/memory-storage.js";

const enc = new TextEncoder();

/** Why a tmpfs cannot be mounted here (not root, no mount), or undefined when it can. */
const mountProblem: string | undefined = await mountTmpfs(1 << 20).then(
  (t) => t.unmount().then(() => undefined),
  (err: unknown) => String(err),
);
if (mountProblem !== undefined) {
  console.log(`[faults] disk full: cannot mount a tmpfs here (${mountProblem}); only the injected storage failures below run`);
}
let fs: Tmpfs | undefined;
afterEach(async () => {
  await cleanupBrokerProcesses();
  await fs?.unmount();
  fs = undefined;
});

/** Writes zeros to `file` until the file system is full; returns the bytes written. */
async function fill(file: string): Promise<number> {
  const h = await open(file, "w");
  const chunk = Buffer.alloc(64 * 1024);
  let written = 0;
  try {
    for (;;) {
      try {
        const { bytesWritten } = await h.write(chunk);
        written += bytesWritten;
        if (bytesWritten < chunk.length) break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOSPC") break;
        throw err;
      }
    }
  } finally {
    await h.close();
  }
  return written;
}

// Defined only where a tmpfs can be mounted (root); elsewhere the notice above says why it is absent.
if (mountProblem === undefined) describe("a data directory whose file system fills up (tmpfs mounted by the test)", () => {
  // The second case leaves room for the log to pass LevelDB's 4 MiB memtable,
  // so the disk fills while a table file is written, which LevelDB remembers
  // as an error that fails every later write until the database is reopened.
  it.each([
    ["the log runs out of room", 8 << 20, 0, 16 * 1024],
    ["a table file runs out of room (LevelDB's sticky background error)", 32 << 20, 5 << 20, 256 * 1024],
  ])("refuses publishes with RESOURCE_EXHAUSTED, keeps consumers going, loses nothing confirmed, and recovers once space is freed: %s", async (_what, size, leaveFree, bigBytes) => {
    fs = await mountTmpfs(size);
    const dataDir = path.join(fs.dir, "data");
    let broker = await BrokerProcess.start({ dataDir });
    const { admin } = broker.clients;
    await call(admin, AdminService.method.createTopic, { name: "t" });
    await call(admin, AdminService.method.createGroup, { topic: "t", group: "g" });
    const confirmed = new Map<string, string>();
    const publish = async (tag: string, bytes = 1024) => {
      // Incompressible, so LevelDB's tables take as much room as the log.
      const payload = Buffer.concat([enc.encode(`${tag}|`), randomBytes(bytes)]);
      const res = await call(broker.clients.broker, BrokerService.method.publish, { topic: "t", messages: [{ payload, messageId: tag }] });
      confirmed.set(`${res.results[0]!.offset}`, tag);
    };
    for (let i = 0; i < 300; i++) await publish(`before-${i}`);

    // A consumer with a backlog: 10 in flight at a time, acks confirmed.
    const sub = new TestSubscriber(broker.clients, { topic: "t", group: "g", maxInFlight: 10, ackConfirmations: true });
    await sub.opened();
    let ackId = 0n;
    const consume = async (n: number) => {
      const ds = await sub.take(n);
      sub.send({ request: { case: "ack", value: { positions: positions(ds), ackId: ++ackId } } });
      return ds;
    };
    await consume(10);
    expect((await sub.confirmation()).acked).toBe(10);

    const filler = path.join(fs.dir, "filler");
    const filled = await fill(filler);
    if (leaveFree > 0) await truncate(filler, Math.max(0, filled - leaveFree));

    // Publishes now fail, with a status that says why; none of them is confirmed.
    let refusal: { code: number; details: string } | undefined;
    for (let i = 0; i < 500 && refusal === undefined; i++) {
      try {
        await publish(`full-${i}`, bigBytes);
      } catch (err) {
        refusal = err as { code: number; details: string };
      }
    }
    expect(refusal, "a publish is refused once the disk is full").toBeDefined();
    expect([status.RESOURCE_EXHAUSTED, status.UNAVAILABLE]).toContain(refusal!.code);
    expect(refusal!.details).toMatch(/disk is full/);
    console.log(`[faults] disk full: publish refused with ${status[refusal!.code]}: ${refusal!.details}`);

    // The consumer keeps going: its acks apply at once (freeing its in-flight
    // slots for more of the backlog) and are kept in memory; their
    // confirmation waits until they are durable.
    const during = await consume(10);
    expect(during.map((d) => d.message!.offset)).toEqual(Array.from({ length: 10 }, (_, i) => BigInt(10 + i)));
    const next = await sub.take(10);
    expect(next[0]!.message!.offset).toBe(20n);
    expect(sub.confirmations).toHaveLength(0);
    expect(sub.ended).toBe(false);
    // GetGroup reports only durable state, so it refuses while acks cannot be written.
    const getGroup = await call(admin, AdminService.method.getGroup, { topic: "t", group: "g" }).catch((e: { code: number }) => e);
    expect((getGroup as { code: number }).code).toBe(status.RESOURCE_EXHAUSTED);

    // Free the space: the broker recovers by itself.
    await rm(filler);
    await until("a publish to succeed after space was freed", () => publish(`after-${Date.now()}`).then(() => true), (ok) => ok, {
      timeoutMs: 15_000,
      intervalMs: 200,
    });
    for (let i = 0; i < 50; i++) await publish(`after-${i}`);
    expect(broker.child.exitCode).toBeNull();
    // It wrote nothing more to the log that had failed: a fresh one holds the rest.
    expect(broker.logs.some((l) => l["msg"] === "reopened the data directory after a failed write; writing again")).toBe(true);
    // The ack made while the disk was full is now durable and confirmed, on the same stream.
    const late = await sub.confirmation();
    expect(late.ackId).toBe(2n);
    expect(late.acked).toBe(10);
    expect(sub.ended).toBe(false);
    sub.send({ request: { case: "ack", value: { positions: positions(next), ackId: ++ackId } } });
    expect((await sub.confirmation()).acked).toBe(10);
    const state = await call(admin, AdminService.method.getGroup, { topic: "t", group: "g" });
    expect(state.group!.partitions[0]!.committedOffset).toBe(30n);

    // Nothing confirmed is lost, also across a crash.
    broker.kill("SIGKILL");
    broker = await broker.restart();
    const log = await readLog(broker.clients, "t");
    const byOffset = new Map(log.map((e) => [`${e.offset}`, e.messageId]));
    for (const [offset, tag] of confirmed) expect(byOffset.get(offset), `offset ${offset}`).toBe(tag);
    const after = await call(broker.clients.admin, AdminService.method.getGroup, { topic: "t", group: "g" });
    expect(after.group!.partitions[0]!.committedOffset, "confirmed acks survive the crash").toBe(30n);
    console.log(`[faults] disk full: ${confirmed.size} confirmed publishes all present after recovery and a SIGKILL; log holds ${log.length}`);
    sub.cancel();
  });
});

// The same rules one layer up, where no mount is needed: the storage refuses
// writes as a full disk would, and then stops refusing.
describe("a storage that refuses writes as a full disk does (injected, in process)", () => {
  it("refuses publishes with RESOURCE_EXHAUSTED, keeps consumers going with late ack confirmations, and recovers once writes work again", async () => {
    const storage = new MemoryStorage();
    await storage.open();
    const broker = await Broker.open({ storage, codec: protobufRecordCodec });
    const server = await startGrpcServer(broker, silentLogger, { host: "127.0.0.1", port: 0, maxRequestBytes: 16 << 20, keepaliveMs: 30_000 });
    const clients = connect(`127.0.0.1:${server.port}`);
    try {
      await call(clients.admin, AdminService.method.createTopic, { name: "t" });
      await call(clients.admin, AdminService.method.createGroup, { topic: "t", group: "g" });
      const publish = (tag: string) => call(clients.broker, BrokerService.method.publish, { topic: "t", messages: [{ payload: enc.encode(tag) }] });
      for (let i = 0; i < 100; i++) await publish(`before-${i}`);
      const sub = new TestSubscriber(clients, { topic: "t", group: "g", maxInFlight: 10, ackConfirmations: true });
      const first = await sub.take(10);
      sub.send({ request: { case: "ack", value: { positions: positions(first), ackId: 1n } } });
      expect((await sub.confirmation()).acked).toBe(10);

      storage.failNextWrites(Number.MAX_SAFE_INTEGER, "full");
      const refused = await publish("full").then(
        () => undefined,
        (e: { code: number; details: string }) => e,
      );
      expect(refused?.code).toBe(status.RESOURCE_EXHAUSTED);
      expect(refused?.details).toMatch(/disk is full/);
      const during = await sub.take(10);
      sub.send({ request: { case: "ack", value: { positions: positions(during), ackId: 2n } } });
      const next = await sub.take(10);
      expect(next[0]!.message!.offset).toBe(20n);
      expect(sub.confirmations).toHaveLength(0);
      const getGroup = await call(clients.admin, AdminService.method.getGroup, { topic: "t", group: "g" }).catch((e: { code: number }) => e);
      expect((getGroup as { code: number }).code).toBe(status.RESOURCE_EXHAUSTED);

      storage.failNextWrites(0);
      await until("a publish to succeed once writes work", () => publish("after").then(() => true), (ok) => ok, { timeoutMs: 10_000, intervalMs: 100 });
      const late = await sub.confirmation();
      expect(late).toMatchObject({ ackId: 2n, acked: 10 });
      expect(sub.ended).toBe(false);
      const state = await call(clients.admin, AdminService.method.getGroup, { topic: "t", group: "g" });
      expect(state.group!.partitions[0]!.committedOffset).toBe(20n);
      sub.cancel();
    } finally {
      clients.close();
      await server.shutdown(1000);
      await storage.close();
    }
  });
});
