/**
 * NATS JetStream as the peer: a nats-server (file storage) on 127.0.0.1 and a
 * temp dir, driven by its own `nats bench` (the Go client: its best case)
 * and by the Node `nats` client through the shared workloads. Streams use
 * file storage; consumers are durable pull consumers with explicit acks.
 * With message ids on (Sluice's default), publishers set a message id and
 * streams keep JetStream's 2-minute duplicate window, as Sluice does.
 */
import type { ChildProcess } from "node:child_process";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { AckPolicy, DeliverPolicy, StorageType, connect, type JetStreamClient, type JetStreamManager, type NatsConnection } from "nats";
import { exited, removeDir, tempDir } from "../children.js";
import { CONSUME_STREAMS, LABELS, SINGLE_CALLERS } from "../labels.js";
import type { BenchOptions } from "../options.js";
import type { Results } from "../results.js";
import type { PeerConsumer, PeerDriver } from "./peer-driver.js";
import { runPeerWorkloads } from "./peer-driver.js";
import { PeerMissing, peerTool, runTool, spawnUntil } from "./peer-process.js";

const NATS_BENCH = "jetstream (nats bench)";
const NATS_NODE = "jetstream (node nats)";

class NatsServer {
  private constructor(
    readonly child: ChildProcess,
    readonly url: string,
    readonly dir: string,
  ) {}

  static async start(syncAlways: boolean): Promise<NatsServer> {
    const bin = peerTool("nats-server", "nats");
    const dir = tempDir("nats-bench-");
    const conf = path.join(dir, "nats.conf");
    writeFileSync(
      conf,
      `listen: "127.0.0.1:-1"\njetstream {\n  store_dir: "${path.join(dir, "js")}"\n  max_file_store: 64GB\n${syncAlways ? "  sync_interval: always\n" : ""}}\n`,
    );
    const { child, match } = await spawnUntil(bin, ["-c", conf], /Listening for client connections on ([\d.]+:\d+)/);
    return new NatsServer(child, `nats://${match[1]}`, dir);
  }

  async stop(): Promise<void> {
    this.child.kill("SIGTERM");
    await exited(this.child);
    removeDir(this.dir);
  }
}

/** The Node client (nats.js v2) as a {@link PeerDriver}. */
class NodeNatsDriver implements PeerDriver {
  readonly system = NATS_NODE;
  #seq = 0;
  private constructor(
    readonly nc: NatsConnection,
    readonly js: JetStreamClient,
    readonly jsm: JetStreamManager,
    readonly messageIds: boolean,
  ) {}

  static async connect(url: string, messageIds: boolean): Promise<NodeNatsDriver> {
    const nc = await connect({ servers: url });
    return new NodeNatsDriver(nc, nc.jetstream(), await nc.jetstreamManager(), messageIds);
  }

  async createTopic(topic: string): Promise<void> {
    await this.jsm.streams.add({ name: topic, subjects: [topic], storage: StorageType.File, max_bytes: -1 });
  }

  async backlog(topic: string): Promise<number> {
    return (await this.jsm.streams.info(topic)).state.messages;
  }

  #opts() {
    return this.messageIds ? { msgID: `m-${this.#seq++}` } : undefined;
  }

  async publishBatched(topic: string, payloads: Buffer[], count: number): Promise<void> {
    // Like `nats bench js pub async`: keep a window of unacknowledged async publishes.
    const window = 1000;
    const mask = payloads.length - 1;
    let pending: Promise<unknown>[] = [];
    for (let i = 0; i < count; i++) {
      pending.push(this.js.publish(topic, payloads[i & mask]!, this.#opts()));
      if (pending.length >= window) {
        await Promise.all(pending);
        pending = [];
      }
    }
    await Promise.all(pending);
  }

  async publishOne(topic: string, payload: Buffer): Promise<void> {
    await this.js.publish(topic, payload, this.#opts());
  }

  send(topic: string, payload: Buffer, onError: (err: unknown) => void): void {
    this.js.publish(topic, payload, this.#opts()).catch(onError);
  }

  async consume(topic: string, group: string, streams: number, onMessage: (payload: Uint8Array) => void): Promise<PeerConsumer> {
    await this.jsm.consumers.add(topic, { durable_name: group, ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All });
    const iterators = await Promise.all(
      Array.from({ length: streams }, async () => (await this.js.consumers.get(topic, group)).consume({ max_messages: 1000 })),
    );
    const loops = iterators.map(async (it) => {
      for await (const m of it) {
        onMessage(m.data);
        m.ack();
      }
    });
    return {
      close: async () => {
        for (const it of iterators) await it.close();
        await Promise.all(loops);
      },
    };
  }

  async close(): Promise<void> {
    await this.nc.drain();
  }
}

const rate = (out: string): number => {
  const all = [...out.matchAll(/stats: ([\d,]+) msgs\/sec/g)];
  const last = all[all.length - 1];
  if (last === undefined) throw new Error(`no rate in nats bench output: ${out.slice(-1000)}`);
  return Number(last[1]!.replace(/,/g, ""));
};

/** Runs every selected workload against JetStream with `nats bench`, then the Node client. */
export async function runNats(o: BenchOptions, results: Results): Promise<void> {
  let nats: string;
  try {
    nats = peerTool("nats", "nats");
    peerTool("nats-server", "nats");
  } catch (err) {
    if (err instanceof PeerMissing) return results.note(`--vs nats skipped: ${err.message}`);
    throw err;
  }
  const has = (w: string) => o.only.has(w as never);
  const dedup = o.messageIds ? ["--dedup"] : [];
  const server = await NatsServer.start(false);
  process.stderr.write(`nats: nats-server listening on ${server.url}\n`);
  const admin = await NodeNatsDriver.connect(server.url, false);
  try {
    const bench = (args: string[]) => runTool(nats, ["-s", server.url, "bench", "js", ...args, "--no-progress"]).then(rate);
    for (const size of o.sizes) {
      const stream = `nb-${size}`;
      await admin.createTopic(stream);
      const add = (workload: string, label: string, runs: number[]) =>
        results.add({ workload, label, size, system: NATS_BENCH, unit: "msg/s", better: "higher", runs });
      const publish = async (msgs: number) =>
        bench(["pub", "async", stream, "--stream", stream, "--msgs", String(msgs), "--size", `${size}B`, "--batch", "500", ...dedup]);
      if (has("publish-batched")) {
        const runs: number[] = [];
        for (let r = 0; r < o.runs; r++) runs.push(await publish(o.publishCount(size)));
        add("publish-batched", LABELS.publishBatched, runs);
      }
      if (has("publish-single")) {
        const single = `ns-${size}`;
        await admin.createTopic(single);
        const runs: number[] = [];
        // Sized to take a few seconds at the rates seen here.
        const msgs = size <= 256 ? 150_000 : 60_000;
        for (let r = 0; r < o.runs; r++) {
          runs.push(await bench(["pub", "sync", single, "--stream", single, "--clients", String(SINGLE_CALLERS), "--msgs", String(msgs), "--size", `${size}B`, ...dedup]));
        }
        add("publish-single", LABELS.publishSingle, runs);
      }
      if (has("consume")) {
        const info = await admin.jsm.streams.info(stream);
        if (info.state.messages < o.consumeCount) await publish(o.consumeCount - info.state.messages);
        const runs: number[] = [];
        for (let r = 0; r < o.runs; r++) {
          const consumer = `c-${r}`;
          await admin.jsm.consumers.add(stream, { durable_name: consumer, ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All });
          runs.push(await bench(["consume", "--stream", stream, "--consumer", consumer, "--clients", String(CONSUME_STREAMS), "--msgs", String(o.consumeCount), "--acks", "explicit", "--batch", "500"]));
        }
        add("consume", LABELS.consume, runs);
      }
    }
  } finally {
    await admin.close();
  }
  // The Node client, on the same server (new streams).
  const node = await NodeNatsDriver.connect(server.url, o.messageIds);
  try {
    await runPeerWorkloads(node, o, results);
  } finally {
    await node.close();
    await server.stop();
  }
  if (has("fsync")) await runNatsFsync(o, results, nats, dedup);
}

/** JetStream with `sync_interval: always` (an fsync per write), for the fsync rows. */
async function runNatsFsync(o: BenchOptions, results: Results, nats: string, dedup: string[]): Promise<void> {
  const server = await NatsServer.start(true);
  const admin = await NodeNatsDriver.connect(server.url, false);
  try {
    const bench = (args: string[]) => runTool(nats, ["-s", server.url, "bench", "js", ...args, "--no-progress"]).then(rate);
    for (const size of o.sizes) {
      const stream = `nf-${size}`;
      await admin.createTopic(stream);
      const add = (workload: string, label: string, runs: number[]) =>
        results.add({ workload, label, size, system: NATS_BENCH, unit: "msg/s", better: "higher", runs });
      const batched: number[] = [];
      const single: number[] = [];
      for (let r = 0; r < o.runs; r++) {
        batched.push(await bench(["pub", "async", stream, "--stream", stream, "--msgs", String(Math.round(o.publishCount(size) / 4)), "--size", `${size}B`, "--batch", "500", ...dedup]));
        single.push(await bench(["pub", "sync", stream, "--stream", stream, "--clients", String(SINGLE_CALLERS), "--msgs", String(size <= 256 ? 60_000 : 30_000), "--size", `${size}B`, ...dedup]));
      }
      add("fsync-publish-batched", LABELS.publishBatched, batched);
      add("fsync-publish-single", LABELS.publishSingle, single);
    }
  } finally {
    await admin.close();
    await server.stop();
  }
}
