import type { Clock } from "./clock.js";
import type { Group } from "./group.js";
import type { GroupPartition } from "./group-partition.js";
import type { Logger } from "./logger.js";
import { fromStorageError } from "./storage-errors.js";
import type { WriteQueue } from "./write-queue.js";

/**
 * The least time between two writes of ack state that nobody waits for.
 * Without it, a consume-only load wrote once per write-queue round trip
 * (~900 times a second at 200k msg/s), and each LevelDB write costs the
 * event loop 20-160 µs on a busy machine; a crash forgets at most this much
 * more of acks (their messages are delivered again).
 */
export const ACK_PERSIST_INTERVAL_MS = 10;

/**
 * Persists changed ack state of groups through the shared write queue, so
 * acks from every stream are committed together with publishes. At most one
 * persist task is queued at a time; acks arriving meanwhile ride the next.
 * State nobody waits for is written at most every
 * {@link ACK_PERSIST_INTERVAL_MS}; a wait for durability queues at once. A
 * failed write marks the state dirty again and retries.
 */
export class AckPersister {
  readonly #dirty = new Set<Group>();
  #queued = false;
  #retryTimer: (() => void) | null = null;
  /** Pending while unwaited-for state waits out the interval. */
  #intervalTimer: (() => void) | null = null;
  /** When the last persist task was built (clock time). */
  #lastBuilt = -Infinity;

  constructor(
    private readonly writes: WriteQueue,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly intervalMs = ACK_PERSIST_INTERVAL_MS,
  ) {}

  /** Resolvers waiting for the next persist task to be durable. */
  #waiters: Waiter[] = [];
  /** Resolvers waiting until the state is durable, however many writes fail first. */
  #durable: Array<() => void> = [];

  /**
   * Marks a group as having unpersisted state. With `wait`, returns a promise
   * that resolves once that state is durable: with `true` it rejects (with a
   * {@link BrokerError}) when the next write fails; with `"durable"` it waits
   * through failed writes (a full disk) until a retry succeeds, so an ack
   * confirmation is late rather than wrong or lost.
   */
  readonly mark = (group: Group, wait: boolean | "durable" = false): Promise<void> | undefined => {
    this.#dirty.add(group);
    if (!wait) {
      this.#queueSoon();
      return undefined;
    }
    this.#queue();
    if (wait === "durable") return new Promise((resolve) => this.#durable.push(resolve));
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  };

  /** Resolves once every ack marked so far is persisted (or failed). */
  async flush(): Promise<void> {
    this.#retryTimer?.();
    this.#retryTimer = null;
    if (this.#dirty.size > 0) this.#queue();
    await this.writes.drain();
  }

  /** Queues a persist task once the interval since the last one has passed. */
  #queueSoon(): void {
    if (this.#queued || this.#intervalTimer !== null) return;
    const wait = this.#lastBuilt + this.intervalMs - this.clock.now();
    if (wait <= 0) return this.#queue();
    this.#intervalTimer = this.clock.setTimer(() => {
      this.#intervalTimer = null;
      this.#queue();
    }, wait);
  }

  #queue(): void {
    this.#intervalTimer?.();
    this.#intervalTimer = null;
    if (this.#queued) return;
    this.#queued = true;
    const written: Array<[Group, GroupPartition]> = [];
    let waiters: Waiter[] = [];
    let durable: Array<() => void> = [];
    this.writes.submit({
      build: (batch) => {
        this.#queued = false;
        this.#lastBuilt = this.clock.now();
        waiters = this.#waiters;
        this.#waiters = [];
        durable = this.#durable;
        this.#durable = [];
        for (const g of this.#dirty) {
          if (g.deleted) continue;
          for (const gp of g.partitions) {
            if (!gp.dirty) continue;
            batch.putGroupPartition(g.meta.id, gp.partition, gp.state(g.meta.maxDeliveries > 0));
            gp.dirty = false;
            written.push([g, gp]);
          }
        }
        this.#dirty.clear();
      },
      done: (err) => {
        for (const w of waiters) {
          if (err === undefined) w.resolve();
          else w.reject(fromStorageError(err));
        }
        if (err === undefined) {
          for (const resolve of durable) resolve();
          return;
        }
        // They ride the retry.
        this.#durable.unshift(...durable);
        this.logger.warn({ err, partitions: written.length }, "persisting acks failed; retrying");
        for (const [g, gp] of written) {
          gp.dirty = true;
          this.#dirty.add(g);
        }
        this.#retryTimer ??= this.clock.setTimer(() => {
          this.#retryTimer = null;
          this.#queue();
        }, 200);
      },
    });
  }
}

interface Waiter {
  resolve: () => void;
  reject: (err: unknown) => void;
}
