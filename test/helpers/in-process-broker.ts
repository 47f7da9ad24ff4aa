import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Broker, type BrokerOptions } from "../../src/broker/broker.js";
import { silentLogger as silent } from "../../src/broker/logger.js";
import type { BrokerLimits } from "../../src/broker/types.js";
import { protobufRecordCodec } from "../../src/server/record-codec.js";
import { type GrpcServer, type GrpcServerOptions, startGrpcServer } from "../../src/server/server.js";
import { LevelStorage } from "../../src/storage/level-storage.js";
import { type Clients, connect } from "./grpc-clients.js";

/** TLS and access control of the gRPC edge; `clients` stay plaintext and anonymous, so connect your own. */
export type EdgeTestOptions = Pick<GrpcServerOptions, "credentials" | "auth">;

/** Broker options a test may set (storage, codec and limits are the helper's). */
export type BrokerTestOptions = Omit<BrokerOptions, "storage" | "codec" | "limits">;

/**
 * A real broker in this process: LevelDB in a fresh temp dir, gRPC on
 * 127.0.0.1 with a free port, and clients connected to it.
 */
export class InProcessBroker {
  broker!: Broker;
  server!: GrpcServer;
  storage!: LevelStorage;
  clients!: Clients;

  private constructor(
    readonly dataDir: string,
    private readonly limits: Partial<BrokerLimits>,
    private readonly options: BrokerTestOptions,
    private readonly edge: EdgeTestOptions,
  ) {}

  /** Starts a broker with these limits and options (kept across restarts). */
  static async start(
    limits: Partial<BrokerLimits> = {},
    options: BrokerTestOptions = {},
    edge: EdgeTestOptions = {},
  ): Promise<InProcessBroker> {
    const dir = await mkdtemp(path.join(tmpdir(), "sluice-test-"));
    const b = new InProcessBroker(dir, limits, options, edge);
    await b.#boot(0);
    return b;
  }

  get address(): string {
    return `127.0.0.1:${this.server.port}`;
  }

  async #boot(port: number): Promise<void> {
    this.storage = new LevelStorage({ location: this.dataDir });
    await this.storage.open();
    this.broker = await Broker.open({ ...this.options, storage: this.storage, codec: protobufRecordCodec, limits: this.limits });
    this.server = await startGrpcServer(this.broker, silent, {
      host: "127.0.0.1",
      port,
      maxRequestBytes: 16 << 20,
      keepaliveMs: 30_000,
      ...this.edge,
    });
    this.clients = connect(this.address);
  }

  /** Graceful stop and start on the same data dir and port. */
  async restart(): Promise<void> {
    const port = this.server.port;
    await this.#stop();
    await this.#boot(port);
  }

  async #stop(): Promise<void> {
    this.clients.close();
    await this.server.shutdown(2000);
    await this.storage.close();
  }

  async stop(): Promise<void> {
    await this.#stop();
    await rm(this.dataDir, { recursive: true, force: true });
  }
}

