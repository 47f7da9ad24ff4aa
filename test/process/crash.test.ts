import { readdir, readFile, writeFile, mkdir } from "node:fs/promises";
import path from "node:path";
import { create } from "@bufbuild/protobuf";
import type { Client, ServiceError } from "@grpc/grpc-js";
import { ClassicLevel } from "classic-level";
import { afterEach, describe, expect, it } from "vitest";
import { type PublishResponse, PublishRequestSchema } from "../../gen/sluice/v1/broker_pb.js";
import { BrokerProcess, cleanupBrokerProcesses, runBroker, tempDir } from "../helpers/broker-process.js";
import { AdminService, call } from "../helpers/grpc-clients.js";
import { positions, TestSubscriber } from "../helpers/test-subscriber.js";

const enc = new TextEncoder();
const dec = new TextDecoder();

afterEach(async () => {
  await cleanupBrokerProcesses();
});

const posKey = (partition: number, offset: bigint) => `${partition}/${offset}`;

/** Publish with a callback, so a test can act in the very turn the response arrives. */
function publishCb(
  broker: Client,
  topic: string,
  payloads: string[],
  cb: (err: ServiceError | null, res: PublishResponse | undefined) => void,
  partition?: number,
): void {
  const req = create(PublishRequestSchema, {
    topic,
    messages: payloads.map((p) => ({ payload: enc.encode(p), partition })),
  });
  (broker as unknown as { publish: Function }).publish(req, cb);
}

function publish(broker: Client, topic: string, payloads: string[], partition?: number): Promise<PublishResponse> {
  return new Promise((resolve, reject) =>
    publishCb(broker, topic, payloads, (err, res) => (err ? reject(err) : resolve(res!)), partition),
  );
}

interface Load {
  /** Acknowledged messages: position -> payload. */
  readonly acked: Map<string, string>;
  /** Every payload sent, acknowledged or not. */
  readonly sent: Set<string>;
  /** Resolves once every request launched has settled. */
  readonly settled: Promise<void>;
}

/**
 * Publishes batches of `batchSize` messages with `concurrency` requests in
 * flight, spread over the topic's partitions. After each response,
 * `onResponse(n)` runs synchronously with the count so far; it returns false
 * to stop launching. Launching also stops at the first failed request.
 */
function publishLoad(
  broker: Client,
  topic: string,
  options: { batches: number; batchSize: number; concurrency: number; onResponse: (n: number) => boolean },
): Load {
  const acked = new Map<string, string>();
  const sent = new Set<string>();
  let launched = 0;
  let inFlight = 0;
  let responses = 0;
  let stopped = false;
  let resolveSettled!: () => void;
  const settled = new Promise<void>((r) => (resolveSettled = r));
  const launch = () => {
    const i = launched++;
    const payloads = Array.from({ length: options.batchSize }, (_, j) => `batch-${i}-msg-${j}`);
    payloads.forEach((p) => sent.add(p));
    inFlight++;
    publishCb(broker, topic, payloads, (err, res) => {
      inFlight--;
      if (err !== null) {
        stopped = true;
      } else {
        res!.results.forEach((r, j) => acked.set(posKey(r.partition, r.offset), payloads[j]!));
        if (!options.onResponse(++responses)) stopped = true;
      }
      if (!stopped && launched < options.batches) launch();
      if (inFlight === 0) resolveSettled();
    });
  };
  for (let k = 0; k < options.concurrency && launched < options.batches; k++) launch();
  return { acked, sent, settled };
}

async function createTopic(p: BrokerProcess, name: string, partitions: number): Promise<void> {
  await call(p.clients.admin, AdminService.method.createTopic, { name, partitions });
}

async function endOffsets(p: BrokerProcess, name: string): Promise<bigint[]> {
  const t = await call(p.clients.admin, AdminService.method.getTopic, { name });
  return t.topic!.partitions.map((x) => x.endOffset);
}

/** Reads every message of the topic through a fresh group: position -> payload. */
async function readAll(p: BrokerProcess, topic: string, group: string): Promise<Map<string, string>> {
  const total = Number((await endOffsets(p, topic)).reduce((a, b) => a + b, 0n));
  const sub = new TestSubscriber(p.clients, { topic, group, maxInFlight: 100_000 });
  const ds = await sub.take(total, 20_000);
  sub.end();
  await sub.closed();
  const out = new Map<string, string>();
  for (const d of ds) {
    const k = posKey(d.message!.partition, d.message!.offset);
    expect(out.has(k), `position ${k} delivered twice`).toBe(false);
    out.set(k, dec.decode(d.message!.payload));
  }
  return out;
}

/** Every partition's offsets are exactly 0..end-1. */
function expectDense(stored: Map<string, string>, ends: bigint[]): void {
  ends.forEach((end, partition) => {
    for (let o = 0n; o < end; o++) expect(stored.has(posKey(partition, o)), `partition ${partition} misses offset ${o}`).toBe(true);
  });
  expect(stored.size).toBe(Number(ends.reduce((a, b) => a + b, 0n)));
}

describe("a SIGKILL right after a publish response", () => {
  it("loses no acknowledged message: each acknowledged offset holds its payload, and offsets are dense", async () => {
    const p = await BrokerProcess.start();
    await createTopic(p, "t", 4);
    const BATCHES = 200;
    const load = publishLoad(p.clients.broker, "t", {
      batches: BATCHES,
      batchSize: 10,
      concurrency: 20,
      onResponse: (n) => {
        if (n === BATCHES) p.kill("SIGKILL"); // the moment the last response arrives
        return true;
      },
    });
    await load.settled;
    expect((await p.exited).signal).toBe("SIGKILL");
    expect(load.acked.size).toBe(BATCHES * 10);

    const q = await p.restart();
    const ends = await endOffsets(q, "t");
    const stored = await readAll(q, "t", "verify");
    expectDense(stored, ends);
    // Nothing was in flight at the kill, so the log holds exactly the acknowledged messages.
    expect(stored).toEqual(load.acked);

    // The next publish continues after the restored end.
    const res = await publish(q.clients.broker, "t", ["after"], 0);
    expect(res.results[0]!.offset).toBe(ends[0]);
  });

  it("keeps every acknowledged message when killed in the middle of a publish load", async () => {
    const p = await BrokerProcess.start();
    await createTopic(p, "t", 3);
    const load = publishLoad(p.clients.broker, "t", {
      batches: 10_000,
      batchSize: 5,
      concurrency: 20,
      onResponse: (n) => {
        if (n === 100) p.kill("SIGKILL"); // with 19 requests still in flight
        return n < 100;
      },
    });
    await load.settled;
    expect((await p.exited).signal).toBe("SIGKILL");

    const q = await p.restart();
    const ends = await endOffsets(q, "t");
    const stored = await readAll(q, "t", "verify");
    expectDense(stored, ends);
    for (const [pos, payload] of load.acked) expect(stored.get(pos), `acknowledged ${pos}`).toBe(payload);
    // What was in flight may or may not be there, but only as sent, and once.
    const payloads = [...stored.values()];
    expect(new Set(payloads).size).toBe(payloads.length);
    for (const payload of payloads) expect(load.sent.has(payload)).toBe(true);
  });
});

describe("acknowledgements across a restart", () => {
  const PER_PARTITION = 50;

  /** Two partitions of 50 messages each; a subscriber that took all 100. */
  async function consumeAll(p: BrokerProcess) {
    await createTopic(p, "t", 2);
    for (const partition of [0, 1]) {
      const payloads = Array.from({ length: PER_PARTITION }, (_, i) => `p${partition}-${i}`);
      await publish(p.clients.broker, "t", payloads, partition);
    }
    const sub = new TestSubscriber(p.clients, { topic: "t", group: "g", maxInFlight: 1000 });
    const ds = await sub.take(2 * PER_PARTITION);
    return { sub, ds };
  }

  async function groupState(p: BrokerProcess) {
    return (await call(p.clients.admin, AdminService.method.getGroup, { topic: "t", group: "g" })).group!;
  }

  /** Polls GetGroup until `pred` holds: acks reach the group asynchronously to the stream. */
  async function waitForGroup(p: BrokerProcess, pred: (g: Awaited<ReturnType<typeof groupState>>) => boolean) {
    for (let i = 0; i < 500; i++) {
      const g = await groupState(p);
      if (pred(g)) return g;
    }
    throw new Error("the group never reached the expected state");
  }

  /**
   * Takes what the restarted group delivers: `expected` messages, then one
   * sentinel per partition published afterwards. Fresh messages of a
   * partition are delivered in offset order, so an acknowledged message
   * delivered again would show up before its partition's sentinel.
   */
  async function redeliveredAfterRestart(q: BrokerProcess, expected: number): Promise<Set<string>> {
    const sub = new TestSubscriber(q.clients, { topic: "t", group: "g", maxInFlight: 1000 });
    const ds = await sub.take(expected);
    for (const d of ds) expect(d.attempt).toBeGreaterThanOrEqual(1);
    await publish(q.clients.broker, "t", ["sentinel-0"], 0);
    await publish(q.clients.broker, "t", ["sentinel-1"], 1);
    const tail = await sub.take(2);
    expect(tail.map((d) => dec.decode(d.message!.payload)).sort()).toEqual(["sentinel-0", "sentinel-1"]);
    sub.end();
    await sub.closed();
    return new Set(ds.map((d) => posKey(d.message!.partition, d.message!.offset)));
  }

  it("resumes after SIGTERM with exactly the unacknowledged messages", async () => {
    const p = await BrokerProcess.start();
    const { sub, ds } = await consumeAll(p);
    // Ack the even offsets: the floor stays at 1, the rest are acks above it.
    const toAck = ds.filter((d) => d.message!.offset % 2n === 0n);
    sub.ack(positions(toAck));
    await waitForGroup(p, (g) => g.partitions.every((x) => x.committedOffset === 1n && x.ackedAboveCommitted === 24n));

    const exit = await p.stop();
    expect(exit).toEqual({ code: 0, signal: null });
    expect(p.logs.map((l) => l["msg"])).toEqual(expect.arrayContaining(["shutting down", "stopped"]));

    const q = await p.restart();
    const g = await groupState(q);
    expect(g.partitions.map((x) => [x.committedOffset, x.ackedAboveCommitted, x.lag])).toEqual([
      [1n, 24n, 25n],
      [1n, 24n, 25n],
    ]);
    const unacked = new Set(
      ds.filter((d) => d.message!.offset % 2n === 1n).map((d) => posKey(d.message!.partition, d.message!.offset)),
    );
    expect(await redeliveredAfterRestart(q, unacked.size)).toEqual(unacked);
  });

  it("after SIGKILL, never redelivers an ack GetGroup reported, and redelivers every unacknowledged message", async () => {
    const p = await BrokerProcess.start();
    const { sub, ds } = await consumeAll(p);
    // Ack offsets 0..24 (the floor moves to 25) and 30, 32 (acks above the floor).
    const toAck = ds.filter((d) => d.message!.offset < 25n || d.message!.offset === 30n || d.message!.offset === 32n);
    sub.ack(positions(toAck));
    const before = await waitForGroup(p, (g) =>
      g.partitions.every((x) => x.committedOffset === 25n && x.ackedAboveCommitted === 2n),
    );
    p.kill("SIGKILL");
    expect((await p.exited).signal).toBe("SIGKILL");

    const q = await p.restart();
    const after = await groupState(q);
    after.partitions.forEach((x, i) => {
      expect(x.committedOffset).toBeGreaterThanOrEqual(before.partitions[i]!.committedOffset);
    });
    const acked = new Set(toAck.map((d) => posKey(d.message!.partition, d.message!.offset)));
    const unacked = new Set(ds.map((d) => posKey(d.message!.partition, d.message!.offset)).filter((k) => !acked.has(k)));
    const redelivered = await redeliveredAfterRestart(q, unacked.size);
    expect(redelivered).toEqual(unacked);
  });
});

describe("dedupe across a restart", () => {
  /** Publishes `ids` (payload = id) to partition 0 and returns whether each was a duplicate. */
  async function publishIds(p: BrokerProcess, ids: string[]): Promise<boolean[]> {
    const req = create(PublishRequestSchema, {
      topic: "t",
      messages: ids.map((id) => ({ payload: enc.encode(id), messageId: id, partition: 0 })),
    });
    const res = await new Promise<PublishResponse>((resolve, reject) =>
      (p.clients.broker as unknown as { publish: Function }).publish(req, (err: ServiceError | null, r: PublishResponse) =>
        err ? reject(err) : resolve(r),
      ),
    );
    return res.results.map((r) => r.duplicate);
  }

  const ids = (from: number, n: number): string[] => Array.from({ length: n }, (_, i) => `id-${from + i}`);

  it("answers ids published before a SIGTERM as duplicates, from the index saved at shutdown", async () => {
    const p = await BrokerProcess.start();
    await createTopic(p, "t", 1);
    expect(await publishIds(p, ids(0, 500))).toEqual(Array(500).fill(false));
    expect(await p.stop()).toEqual({ code: 0, signal: null });
    const q = await p.restart();
    expect(q.logs.some((l) => l["msg"] === "dedupe index rebuilt from the newest records")).toBe(false);
    expect(await publishIds(q, [...ids(0, 500), "fresh"])).toEqual([...Array(500).fill(true), false]);
  });

  it("answers ids published before a SIGKILL as duplicates, re-reading the records written since the last save", async () => {
    const p = await BrokerProcess.start();
    await createTopic(p, "t", 1);
    await publishIds(p, ids(0, 300));
    await p.stop();
    const q = await p.restart();
    await publishIds(q, ids(300, 300));
    q.kill("SIGKILL");
    expect((await q.exited).signal).toBe("SIGKILL");
    const r = await q.restart();
    expect(r.logs.find((l) => l["msg"] === "dedupe index rebuilt from the newest records")).toMatchObject({ scanned: 300 });
    expect(await publishIds(r, [...ids(0, 600), "fresh"])).toEqual([...Array(600).fill(true), false]);
    expect(await endOffsets(r, "t")).toEqual([601n]);
  });
});

describe("SIGTERM during a publish load", () => {
  it("answers or refuses each publish, keeps every answered one, and exits 0", async () => {
    const p = await BrokerProcess.start();
    await createTopic(p, "t", 2);
    const load = publishLoad(p.clients.broker, "t", {
      batches: 100_000,
      batchSize: 5,
      concurrency: 20,
      onResponse: (n) => {
        if (n === 50) p.kill("SIGTERM");
        return true; // keep publishing into the shutdown until the broker refuses
      },
    });
    await load.settled;
    expect(await p.exited).toEqual({ code: 0, signal: null });
    expect(load.acked.size).toBeGreaterThanOrEqual(50 * 5);

    const q = await p.restart();
    const ends = await endOffsets(q, "t");
    const stored = await readAll(q, "t", "verify");
    expectDense(stored, ends);
    for (const [pos, payload] of load.acked) expect(stored.get(pos), `acknowledged ${pos}`).toBe(payload);
    for (const payload of stored.values()) expect(load.sent.has(payload)).toBe(true);
  });
});

describe("the data directory", () => {
  it("refuses a directory holding other files, with a clear message and a non-zero exit, leaving them untouched", async () => {
    const dir = path.join(await tempDir(), "not-sluice");
    await mkdir(dir);
    await writeFile(path.join(dir, "notes.txt"), "my notes");
    await writeFile(path.join(dir, "photo.jpg"), Buffer.from([0xff, 0xd8, 0xff]));

    const run = await runBroker(["--host", "127.0.0.1", "--port", "0", "--data-dir", dir]);
    expect(run.code).not.toBe(0);
    expect(run.code).not.toBeNull();
    const output = run.stdout + run.stderr;
    expect(output).toContain(dir);
    expect(output).toMatch(/not a Sluice data directory/);
    expect(output).toMatch(/notes\.txt/);
    expect(output).not.toMatch(/sluice listening/);

    expect((await readdir(dir)).sort()).toEqual(["notes.txt", "photo.jpg"]);
    expect(await readFile(path.join(dir, "notes.txt"), "utf8")).toBe("my notes");
    expect([...(await readFile(path.join(dir, "photo.jpg")))]).toEqual([0xff, 0xd8, 0xff]);
  });

  it("refuses a LevelDB database that Sluice did not create, keeping its data", async () => {
    const dir = path.join(await tempDir(), "other-leveldb");
    const db = new ClassicLevel<string, string>(dir);
    await db.put("someone", "else's data");
    await db.close();

    const run = await runBroker(["--host", "127.0.0.1", "--port", "0", "--data-dir", dir]);
    expect(run.code).not.toBe(0);
    expect(run.stdout + run.stderr).toMatch(/LevelDB database that Sluice did not create/);

    const again = new ClassicLevel<string, string>(dir);
    expect(await again.get("someone")).toBe("else's data");
    await again.close();
  });
});

describe("the command line", () => {
  it("prints every flag with --help and exits 0", async () => {
    const run = await runBroker(["--help"]);
    expect(run.code).toBe(0);
    for (const flag of ["--host", "--port", "--data-dir", "--log-level", "--fsync", "--max-message-bytes", "--help"]) {
      expect(run.stdout).toContain(flag);
    }
    expect(run.stdout).toContain("SLUICE_PORT");
    expect(run.stdout).toContain("SLUICE_DATA_DIR");
  });

  it.each([
    [["--port", "abc"], /--port/],
    [["--port", "70000"], /--port/],
    [["--max-partitions", "0"], /--max-partitions/],
    [["--fsync", "sometimes"], /--fsync/],
    [["--bogus", "1"], /--bogus/],
  ])("exits 2 for %j, naming the flag", async (args, flag) => {
    const run = await runBroker([...args, "--data-dir", path.join(await tempDir(), "unused")]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(flag);
    expect(run.stdout).not.toMatch(/sluice listening/);
  });

  it("exits 2 for a bad environment variable, naming it", async () => {
    const run = await runBroker(["--data-dir", path.join(await tempDir(), "unused")], { SLUICE_PORT: "not-a-port" });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/SLUICE_PORT/);
  });
});
