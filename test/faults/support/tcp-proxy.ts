import net from "node:net";

/** Which way a frozen proxy stops moving bytes. */
export type Direction = "both" | "to-client";

/**
 * A TCP proxy on 127.0.0.1 in front of a broker, for faults below gRPC:
 * {@link freeze} stops forwarding while keeping every connection open, as a
 * peer that hangs or a network that drops packets would (no FIN, no RST);
 * frozen only `"to-client"`, it is a client that stops reading. {@link cut}
 * drops every connection at once, {@link close} ends everything.
 */
export class TcpProxy {
  readonly #server: net.Server;
  readonly #sockets = new Set<net.Socket>();
  /** Sockets whose bytes (from the broker, or both ways) are held. */
  readonly #upstreams = new Set<net.Socket>();
  #frozen: Direction | undefined;
  port = 0;

  private constructor(readonly target: { host: string; port: number }) {
    this.#server = net.createServer((client) => this.#accept(client));
  }

  static async start(targetPort: number): Promise<TcpProxy> {
    const p = new TcpProxy({ host: "127.0.0.1", port: targetPort });
    await new Promise<void>((resolve) => p.#server.listen(0, "127.0.0.1", resolve));
    p.port = (p.#server.address() as net.AddressInfo).port;
    return p;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Connections open through the proxy (two sockets each). */
  get connections(): number {
    return this.#sockets.size / 2;
  }

  /** Stops moving bytes (both ways, or only from the broker); connections stay open. */
  freeze(direction: Direction = "both"): void {
    this.#frozen = direction;
    for (const s of this.#sockets) if (this.#held(s)) s.pause();
  }

  /** Carries bytes again (new connections; old ones lost what came meanwhile). */
  thaw(): void {
    this.#frozen = undefined;
    for (const s of this.#sockets) s.resume();
  }

  /** Destroys every connection (the broker sees them end without a goodbye). */
  cut(): void {
    for (const s of this.#sockets) s.destroy();
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #held(s: net.Socket): boolean {
    return this.#frozen === "both" || (this.#frozen === "to-client" && this.#upstreams.has(s));
  }

  #accept(client: net.Socket): void {
    const upstream = net.connect(this.target.port, this.target.host);
    this.#upstreams.add(upstream);
    for (const [from, to] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      this.#sockets.add(from);
      from.on("data", (chunk) => {
        // Bytes already read when the freeze came are dropped, like a dead link.
        if (this.#held(from)) return;
        if (!to.write(chunk)) {
          from.pause();
          to.once("drain", () => this.#held(from) || from.resume());
        }
      });
      from.on("error", () => undefined);
      from.on("close", () => {
        this.#sockets.delete(from);
        this.#upstreams.delete(from);
        to.destroy();
      });
      if (this.#held(from)) from.pause();
    }
  }
}
