/**
 * RabbitMQ as the peer: the Debian rabbitmq-server on 127.0.0.1 and a temp
 * dir (its own Erlang port mapper on a free loopback port), driven by amqplib
 * through the shared workloads: durable classic queues, persistent messages,
 * publisher confirms, manual acks with a prefetch of 1000 per consumer. A
 * "group" is the queue itself (RabbitMQ has no replay: consuming removes).
 */
import { spawnSync, type ChildProcess } from "node:child_process";
import { writeFileSync } from "node:fs";
import { createServer } from "node:net";
import path from "node:path";
import { connect, type ChannelModel, type ConfirmChannel } from "amqplib";
import { exited, onCleanup, removeDir, tempDir } from "../children.js";
import type { BenchOptions } from "../options.js";
import type { Results } from "../results.js";
import { runPeerWorkloads, type PeerConsumer, type PeerDriver } from "./peer-driver.js";
import { PeerMissing, peerTool, spawnUntil } from "./peer-process.js";

const SERVER = "/usr/lib/rabbitmq/bin/rabbitmq-server";
const PREFETCH = 1000;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

class RabbitServer {
  private constructor(
    readonly child: ChildProcess,
    readonly url: string,
    readonly dir: string,
    readonly epmdPort: number,
  ) {}

  static async start(): Promise<RabbitServer> {
    peerTool("rabbitmq-server", "rabbitmq");
    const dir = tempDir("rabbitmq-bench-");
    writeFileSync(path.join(dir, "enabled_plugins"), "[].\n");
    const [port, dist, epmd] = [await freePort(), await freePort(), await freePort()];
    const env = {
      ...process.env,
      HOME: dir,
      RABBITMQ_NODENAME: `sluicebench${process.pid}@localhost`,
      RABBITMQ_NODE_IP_ADDRESS: "127.0.0.1",
      RABBITMQ_NODE_PORT: String(port),
      RABBITMQ_DIST_PORT: String(dist),
      ERL_EPMD_PORT: String(epmd),
      ERL_EPMD_ADDRESS: "127.0.0.1",
      RABBITMQ_MNESIA_BASE: path.join(dir, "mnesia"),
      RABBITMQ_LOG_BASE: path.join(dir, "log"),
      RABBITMQ_LOGS: "-",
      RABBITMQ_ENABLED_PLUGINS_FILE: path.join(dir, "enabled_plugins"),
      RABBITMQ_PID_FILE: path.join(dir, "rabbitmq.pid"),
    };
    // Its own process group, so that stopping it stops erl and beam too.
    const stopEpmd = () => spawnSync("epmd", ["-port", String(epmd), "-kill"], { env, stdio: "ignore" });
    const unregister = onCleanup(() => {
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        // already gone
      }
      stopEpmd();
    });
    let child!: ChildProcess;
    try {
      ({ child } = await spawnUntil(SERVER, [], /Server startup complete/, { env, detached: true, timeoutMs: 120_000 }));
    } catch (err) {
      unregister();
      stopEpmd();
      throw err;
    }
    return new RabbitServer(child, `amqp://guest:guest@127.0.0.1:${port}`, dir, epmd);
  }

  async stop(): Promise<void> {
    try {
      process.kill(-this.child.pid!, "SIGTERM");
    } catch {
      // already gone
    }
    const timer = setTimeout(() => {
      try {
        process.kill(-this.child.pid!, "SIGKILL");
      } catch {
        // already gone
      }
    }, 30_000);
    await exited(this.child);
    clearTimeout(timer);
    spawnSync("epmd", ["-port", String(this.epmdPort), "-kill"], { stdio: "ignore" });
    removeDir(this.dir);
  }
}

class AmqplibDriver implements PeerDriver {
  readonly system = "rabbitmq (amqplib)";
  private constructor(
    readonly conn: ChannelModel,
    readonly pub: ConfirmChannel,
  ) {}

  static async connect(url: string): Promise<AmqplibDriver> {
    // TCP_NODELAY, as gRPC and NATS clients set it; without it Nagle adds tens of ms to latency.
    const conn = await connect(url, { noDelay: true });
    return new AmqplibDriver(conn, await conn.createConfirmChannel());
  }

  async createTopic(topic: string): Promise<void> {
    await this.pub.assertQueue(topic, { durable: true });
  }

  async backlog(topic: string): Promise<number> {
    return (await this.pub.checkQueue(topic)).messageCount;
  }

  async publishBatched(topic: string, payloads: Buffer[], count: number): Promise<void> {
    // Pipelined: a window of unconfirmed messages, and the socket's own backpressure.
    const window = 10_000;
    const mask = payloads.length - 1;
    let unconfirmed = 0;
    let failure: unknown;
    let wake: (() => void) | undefined;
    const confirmed = (err: unknown) => {
      if (err) failure ??= err;
      unconfirmed--;
      if (wake && unconfirmed <= window / 2) {
        const w = wake;
        wake = undefined;
        w();
      }
    };
    for (let i = 0; i < count; i++) {
      if (failure) throw failure;
      unconfirmed++;
      const ok = this.pub.sendToQueue(topic, payloads[i & mask]!, { persistent: true }, confirmed);
      if (!ok) await new Promise<void>((r) => this.pub.once("drain", r));
      if (unconfirmed >= window) await new Promise<void>((r) => (wake = r));
    }
    await this.pub.waitForConfirms();
    if (failure) throw failure;
  }

  publishOne(topic: string, payload: Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pub.sendToQueue(topic, payload, { persistent: true }, (err: unknown) => (err ? reject(err) : resolve()));
    });
  }

  send(topic: string, payload: Buffer, onError: (err: unknown) => void): void {
    this.pub.sendToQueue(topic, payload, { persistent: true }, (err: unknown) => err && onError(err));
  }

  async consume(topic: string, _group: string, streams: number, onMessage: (payload: Uint8Array) => void): Promise<PeerConsumer> {
    const channels = await Promise.all(Array.from({ length: streams }, () => this.conn.createChannel()));
    const tags: string[] = [];
    for (const ch of channels) {
      await ch.prefetch(PREFETCH);
      const { consumerTag } = await ch.consume(
        topic,
        (m) => {
          if (m === null) return;
          onMessage(m.content);
          ch.ack(m);
        },
        { noAck: false },
      );
      tags.push(consumerTag);
    }
    return {
      close: async () => {
        await Promise.all(channels.map((ch, i) => ch.cancel(tags[i]!).then(() => ch.close())));
      },
    };
  }

  async close(): Promise<void> {
    await this.conn.close();
  }
}

/** Runs the shared workloads against RabbitMQ through amqplib. */
export async function runRabbitmq(o: BenchOptions, results: Results): Promise<void> {
  let server: RabbitServer;
  try {
    server = await RabbitServer.start();
  } catch (err) {
    if (err instanceof PeerMissing) return results.note(`--vs rabbitmq skipped: ${err.message}`);
    throw err;
  }
  process.stderr.write(`rabbitmq: listening on ${server.url.replace(/\/\/.*@/, "//")}\n`);
  if (o.messageIds) results.note("rabbitmq: no message ids and no dedupe (RabbitMQ has none)");
  let driver: AmqplibDriver | undefined;
  try {
    driver = await AmqplibDriver.connect(server.url);
    await runPeerWorkloads(driver, { ...o, only: new Set([...o.only].filter((w) => w !== "fsync")) }, results);
  } finally {
    await driver?.close().catch(() => undefined);
    await server.stop();
  }
}
