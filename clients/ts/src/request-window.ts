import type { PublishStreamRequest } from "./gen/sluice/v1/broker_pb.js";
import type { Pending } from "./pending-send.js";

/** A sealed publish request, the sends it carries and their estimated bytes. @internal */
export interface SealedRequest {
  readonly entries: Pending[];
  readonly bytes: number;
  readonly request: PublishStreamRequest;
}

/**
 * A publisher's requests from sealing to their answer: queued until the
 * stream takes them, in order, then in flight by request id. When the
 * stream breaks, those in flight go back to the front of the queue, in the
 * order they were written, to be written again on the next stream.
 * @internal
 */
export class RequestWindow {
  #queue: SealedRequest[] = [];
  readonly #inflight = new Map<bigint, SealedRequest>();

  /** Requests waiting to be written. */
  get queued(): number {
    return this.#queue.length;
  }

  /** Queues a sealed request behind the others. */
  push(sealed: SealedRequest): void {
    this.#queue.push(sealed);
  }

  /** The next queued request, now counted in flight; `undefined` when none is queued. */
  writeNext(): SealedRequest | undefined {
    const sealed = this.#queue.shift();
    if (sealed !== undefined) this.#inflight.set(sealed.request.requestId, sealed);
    return sealed;
  }

  /** The request in flight that `requestId` answers, no longer tracked; `undefined` when none is. */
  answered(requestId: bigint): SealedRequest | undefined {
    const sealed = this.#inflight.get(requestId);
    if (sealed !== undefined) this.#inflight.delete(requestId);
    return sealed;
  }

  /** The stream broke: requests in flight go back to the front of the queue. */
  requeue(): void {
    if (this.#inflight.size === 0) return;
    this.#queue = [...this.#inflight.values(), ...this.#queue];
    this.#inflight.clear();
  }

  /** Takes every request, those in flight first, in order. */
  takeAll(): SealedRequest[] {
    const all = [...this.#inflight.values(), ...this.#queue];
    this.#inflight.clear();
    this.#queue = [];
    return all;
  }
}
