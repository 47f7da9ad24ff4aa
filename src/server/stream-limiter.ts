import { status } from "@grpc/grpc-js";
import type { EventEmitter } from "node:events";

/** The default of --max-streams-per-connection. */
export const DEFAULT_MAX_STREAMS_PER_CONNECTION = 1000;

/** What the limiter needs of a streaming call. */
type StreamCall = Pick<EventEmitter, "once" | "emit"> & { getPeer(): string };

/**
 * Caps the Subscribe and PublishStream calls open at once on one client
 * connection (one peer address and port), so that a client cannot pin
 * unbounded broker state through one HTTP/2 session. Unary calls are not
 * counted. (HTTP/2's own `grpc.max_concurrent_streams` setting is not used
 * for this: it counts unary calls too, and grpc-js clients queue calls past
 * it silently instead of failing them.)
 */
export class StreamLimiter {
  readonly #open = new Map<string, number>();

  constructor(readonly max: number) {}

  /** Streams open now, all connections together. */
  get total(): number {
    let n = 0;
    for (const v of this.#open.values()) n += v;
    return n;
  }

  /**
   * Counts `call` against its connection until it ends, and returns true; or,
   * when the connection is at the limit, ends it with RESOURCE_EXHAUSTED naming
   * the limit and returns false.
   */
  admit(call: StreamCall, method: string): boolean {
    const peer = call.getPeer();
    const open = this.#open.get(peer) ?? 0;
    if (open >= this.max) {
      call.emit("error", {
        code: status.RESOURCE_EXHAUSTED,
        details:
          `this connection has ${open} streams open, the limit set by --max-streams-per-connection is ${this.max}; ` +
          `close some, or open another connection (${method} refused)`,
      });
      return false;
    }
    this.#open.set(peer, open + 1);
    let counted = true;
    const release = () => {
      if (!counted) return;
      counted = false;
      const n = (this.#open.get(peer) ?? 1) - 1;
      if (n <= 0) this.#open.delete(peer);
      else this.#open.set(peer, n);
    };
    // However the call ends: status sent, error, cancelled by the client or a dead connection.
    for (const event of ["finish", "error", "cancelled", "close"]) call.once(event, release);
    return true;
  }
}
