import net from "node:net";

/**
 * A TCP proxy on 127.0.0.1 in front of a broker that can lose what the
 * broker sends while the client's bytes still arrive, and cut every
 * connection: a confirmation lost on its way back.
 */
export class LossyProxy {
  readonly #server: net.Server;
  readonly #sockets = new Set<net.Socket>();
  #dropping = false;
  #port = 0;

  private constructor(readonly targetPort: number) {
    this.#server = net.createServer((client) => this.#accept(client));
  }

  /** Listens on an ephemeral port and forwards to `127.0.0.1:targetPort`. */
  static async start(targetPort: number): Promise<LossyProxy> {
    const proxy = new LossyProxy(targetPort);
    await new Promise<void>((resolve) => proxy.#server.listen(0, "127.0.0.1", resolve));
    proxy.#port = (proxy.#server.address() as net.AddressInfo).port;
    return proxy;
  }

  /** `127.0.0.1:<port>`, for the client. */
  get address(): string {
    return `127.0.0.1:${this.#port}`;
  }

  /** From now on, drops (`true`) or carries (`false`) every byte the broker sends. */
  dropResponses(on: boolean): void {
    this.#dropping = on;
  }

  /** Destroys every connection; new ones are accepted. */
  cut(): void {
    for (const s of this.#sockets) s.destroy();
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #accept(client: net.Socket): void {
    const broker = net.connect(this.targetPort, "127.0.0.1");
    for (const s of [client, broker]) {
      this.#sockets.add(s);
      s.on("error", () => undefined);
      s.on("close", () => {
        this.#sockets.delete(s);
        client.destroy();
        broker.destroy();
      });
    }
    client.pipe(broker);
    broker.on("data", (chunk: Buffer) => {
      if (!this.#dropping) client.write(chunk);
    });
  }
}
