import type { SluiceError } from "./sluice-error.js";
import type { Waiter } from "./waiter.js";

/**
 * The acks a subscription wrote with an `ack_id` and whose confirmation it
 * awaits: `track` numbers one ack request and keeps its waiters, the
 * broker's `ack_confirmation` resolves them, and a broken stream rejects
 * them all (the broker may not have applied those acks). Ids start at 1 and
 * never repeat within a subscription, across reconnects. Pure.
 * @internal
 */
export class AckConfirmations {
  readonly #pending = new Map<bigint, Waiter[]>();
  #nextId = 1n;
  #idle: (() => void)[] = [];

  /** Ack requests written and not yet confirmed. */
  get size(): number {
    return this.#pending.size;
  }

  /** The `ack_id` for a request acking for `waiters`: `0n` (no confirmation wanted) when there are none. */
  track(waiters: Waiter[]): bigint {
    if (waiters.length === 0) return 0n;
    const id = this.#nextId++;
    this.#pending.set(id, waiters);
    return id;
  }

  /** The broker confirmed request `ackId` durable. An unknown id (of a broken stream's request) is ignored. */
  confirmed(ackId: bigint): void {
    const waiters = this.#pending.get(ackId);
    if (!waiters) return;
    this.#pending.delete(ackId);
    for (const w of waiters) w.resolve();
    this.#wakeIfIdle();
  }

  /** Rejects every pending waiter with `error` (the stream they were written to is gone). */
  failAll(error: SluiceError): void {
    const all = [...this.#pending.values()];
    this.#pending.clear();
    for (const waiters of all) for (const w of waiters) w.reject(error);
    this.#wakeIfIdle();
  }

  /** Resolves once no confirmation is pending (at once when none is). */
  idle(): Promise<void> {
    if (this.#pending.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  #wakeIfIdle(): void {
    if (this.#pending.size > 0) return;
    for (const wake of this.#idle.splice(0)) wake();
  }
}
