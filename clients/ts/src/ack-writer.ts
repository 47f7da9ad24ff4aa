import { AckCoalescer } from "./ack-coalescer.js";
import type { StreamHandle } from "./bidi-stream.js";
import type { SubscribeRequest } from "./gen/sluice/v1/broker_pb.js";

/**
 * Writes a subscription's acks, nacks and extensions to its current stream:
 * what is recorded during one event-loop turn goes out as one write per verb
 * kind on the next turn, only once the broker confirmed `open`, and only while
 * the stream takes writes (after `write` returns false it waits for
 * `drained()`); meanwhile the verbs wait in the coalescer, bounded by the
 * messages the subscription holds.
 * @internal
 */
export class AckWriter {
  /** Where verbs are recorded. */
  readonly verbs = new AckCoalescer();
  #stream: StreamHandle<SubscribeRequest> | undefined;
  #writable = false;
  #ready = false;
  #scheduled = false;

  /** Starts writing to a new stream: sends `open` now, verbs once `ready()`. */
  open(stream: StreamHandle<SubscribeRequest>, openRequest: SubscribeRequest): void {
    this.#stream = stream;
    this.#ready = false;
    this.#writable = stream.write(openRequest);
  }

  /** The broker confirmed `open`: verbs may go out. */
  ready(): void {
    this.#ready = true;
    this.flush();
  }

  /** The stream takes writes again. */
  drained(): void {
    this.#writable = true;
    this.flush();
  }

  /**
   * The stream ended. Its leases are gone, so nacks and extensions still
   * waiting are dropped; acks are kept for the next stream, where they spare
   * redeliveries of messages the broker leases to it again (or are ignored).
   */
  detach(): void {
    this.#stream = undefined;
    this.#ready = false;
    this.verbs.keepOnlyAcks();
  }

  /** Writes on the next event-loop turn, once per turn however many verbs are recorded. */
  schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.flush();
    });
  }

  /** Writes recorded verbs while the stream takes them. */
  flush(): void {
    const stream = this.#stream;
    if (!stream || !this.#ready) return;
    while (this.#writable) {
      const request = this.verbs.next();
      if (!request) return;
      this.#writable = stream.write(request);
    }
  }

  /**
   * Writes everything recorded, even past the stream's high-water mark: the
   * last acks before a close are few, and dropping them means redelivery.
   */
  flushAll(): void {
    const stream = this.#stream;
    if (!stream || !this.#ready) return;
    for (let r = this.verbs.next(); r; r = this.verbs.next()) stream.write(r);
  }
}
