import type { AckWriter } from "./ack-writer.js";
import type { LeaseTracker } from "./lease-tracker.js";

/**
 * The timer behind a subscription's automatic lease extension: every quarter
 * of the ack deadline (50 ms to 5 s) it asks the {@link LeaseTracker} which
 * held messages are due and writes their extensions at once. Off when the
 * tracker's `maxLeaseMs` is 0. The timer does not keep the process alive.
 * @internal
 */
export class LeaseRenewer<T extends { readonly partition: number; readonly offset: bigint }> {
  readonly #leases: LeaseTracker<T>;
  readonly #acks: AckWriter;
  #timer: NodeJS.Timeout | undefined;

  constructor(leases: LeaseTracker<T>, acks: AckWriter) {
    this.#leases = leases;
    this.#acks = acks;
  }

  /** (Re)starts the timer, at the period of the tracker's current ack deadline. */
  start(): void {
    this.stop();
    if (this.#leases.maxLeaseMs <= 0) return;
    const period = Math.min(5000, Math.max(50, this.#leases.ackDeadlineMs / 4));
    this.#timer = setInterval(() => {
      const due = this.#leases.due(Date.now());
      for (const { item, extendMs } of due) this.#acks.verbs.extend(item.partition, item.offset, extendMs);
      if (due.length > 0) this.#acks.flush();
    }, period);
    this.#timer.unref();
  }

  /** Stops the timer. Idempotent. */
  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
