import { BrokerError } from "./broker-error.js";
import type { AckOutcome, Group, Position, Taken } from "./group.js";
import { HeldLeases } from "./held-leases.js";

/** One delivered message, as handed to the transport. */
export interface Delivery {
  readonly partition: number;
  readonly offset: bigint;
  /** 1 on first delivery, then one more per redelivery. */
  readonly attempt: number;
  /** The stored record, as the codec encoded it. */
  readonly value: Uint8Array;
}

/** A batch of deliveries leased together. */
export interface DeliveryBatch {
  readonly deliveries: Delivery[];
  /** When the leases end (ms since the epoch). */
  readonly deadline: number;
}

/** Settings of one subscription. */
export interface SubscriptionOptions {
  readonly id: string;
  readonly name: string;
  readonly peer: string;
  readonly maxInFlight: number;
  /** Upper bound on the values in one batch (at least one message is sent). */
  readonly maxBatchBytes: number;
  readonly connectedAt: number;
}

const MAX_BATCH_MESSAGES = 1000;

/**
 * One consumer of a group: an async iterable of delivery batches. It asks the
 * group for work only when its reader asks for the next batch and it has
 * credit (`maxInFlight` minus its leases), so a reader that stops reading
 * (gRPC backpressure) holds no queue. Ends when closed; throws the
 * {@link BrokerError} it was closed with, if any.
 */
export class Subscription implements AsyncIterable<DeliveryBatch> {
  /** Messages leased to this subscription (the group adds and removes them). */
  readonly leases = new HeldLeases();
  #closed = false;
  #error: BrokerError | undefined;
  /** Wakes the calls of {@link next} now waiting (more than one only for Fetch). */
  readonly #waiting = new Set<() => void>();

  constructor(
    readonly group: Group,
    readonly options: SubscriptionOptions,
  ) {}

  get id(): string {
    return this.options.id;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Acknowledges positions (see {@link Group.ack}); undefined once closed. */
  ack(positions: readonly Position[], wantDurable = false): AckOutcome | undefined {
    return this.closed ? undefined : this.group.ack(positions, wantDurable);
  }

  /**
   * Gives back this subscription's messages for redelivery after `delayMs`
   * (undefined: the group's retry backoff).
   */
  nack(positions: readonly Position[], delayMs: number | undefined): void {
    if (!this.closed) this.group.nack(this, positions, delayMs);
  }

  /** Extends this subscription's leases to `ms` from now. */
  extend(positions: readonly Position[], ms: number): void {
    if (!this.closed) this.group.extend(this, positions, ms);
  }

  /**
   * Ends the subscription: its leases go back to the group at once, and the
   * iterator ends (or throws `error`). Idempotent.
   */
  close(error?: BrokerError): void {
    if (this.closed) return;
    this.#closed = true;
    this.#error = error;
    for (const wake of [...this.#waiting]) wake();
    this.group.detach(this);
  }

  async *[Symbol.asyncIterator](): AsyncIterator<DeliveryBatch> {
    try {
      for (;;) {
        const batch = await this.next();
        if (batch === null) return;
        yield batch;
      }
    } finally {
      this.close();
    }
  }

  /**
   * The next batch, or null once closed (or once `until` aborts). Throws the
   * close error, if any. `max` caps the batch size.
   */
  async next(max = MAX_BATCH_MESSAGES, until?: AbortSignal): Promise<DeliveryBatch | null> {
    for (;;) {
      if (this.closed) {
        if (this.#error) throw this.#error;
        return null;
      }
      const credit = this.options.maxInFlight - this.leases.size;
      if (credit > 0) {
        const taken = this.group.take(this, Math.min(credit, max), this.options.maxBatchBytes);
        if (taken.leases.length > 0) {
          const batch = await this.#resolve(taken);
          if (batch !== null) return batch;
          continue;
        }
      }
      if (until?.aborted) return null;
      await this.#wait(credit > 0, until);
    }
  }

  /**
   * Waits until taking may succeed: with credit, for the group to change;
   * without, for one of its own leases to go (an ack elsewhere in the group
   * cannot help it, so it does not wake it). Also ends on close or `until`.
   */
  #wait(hasCredit: boolean, until: AbortSignal | undefined): Promise<void> {
    return new Promise((resolve) => {
      let done = false;
      const wake = () => {
        if (done) return;
        done = true;
        this.#waiting.delete(wake);
        until?.removeEventListener("abort", wake);
        resolve();
      };
      this.#waiting.add(wake);
      until?.addEventListener("abort", wake, { once: true });
      if (hasCredit) this.group.onChange(wake);
      else this.leases.onFreed(wake);
    });
  }

  /** Reads the values of redeliveries; drops messages whose record is gone. */
  async #resolve({ leases, values }: Taken): Promise<DeliveryBatch | null> {
    const missing: number[] = [];
    for (let i = 0; i < values.length; i++) if (values[i] === undefined) missing.push(i);
    if (missing.length > 0) {
      const byPartition = new Map<number, number[]>();
      for (const i of missing) {
        const p = leases[i]!.gp.partition;
        const list = byPartition.get(p) ?? [];
        list.push(i);
        byPartition.set(p, list);
      }
      await Promise.all(
        [...byPartition.values()].map(async (list) => {
          const read = await leases[list[0]!]!.gp.log.get(list.map((i) => leases[i]!.offset));
          list.forEach((i, k) => (values[i] = read[k]));
        }),
      );
    }
    if (this.closed) return null;
    // Without a read nothing ran since take(): every lease is still current.
    const check = missing.length > 0;
    const deliveries: Delivery[] = [];
    const gone: Position[] = [];
    for (let i = 0; i < leases.length; i++) {
      const l = leases[i]!;
      // The lease may have been acked, expired or released while reading.
      if (check && l.gp.inFlight.get(l.offset) !== l) continue;
      const value = values[i];
      if (value === undefined) gone.push({ partition: l.gp.partition, offset: l.offset });
      else deliveries.push({ partition: l.gp.partition, offset: l.offset, attempt: l.attempt, value });
    }
    // A record removed from the log (topic or retention) can never be delivered.
    if (gone.length > 0) this.group.ack(gone);
    if (deliveries.length === 0) return null;
    return { deliveries, deadline: leases[0]!.deadline };
  }
}
