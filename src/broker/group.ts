import type { GroupMeta } from "../storage/storage.js";
import type { BrokerError } from "./broker-error.js";
import type { Clock } from "./clock.js";
import type { DeadLetter } from "./dead-letter.js";
import { DeadLettering } from "./dead-lettering.js";
import { GroupDispatcher } from "./group-dispatcher.js";
import type { GroupPartition } from "./group-partition.js";
import type { LinkedLease } from "./linked-lease.js";
import { Notifier } from "./notifier.js";
import { Subscription } from "./subscription.js";
import type { Topic } from "./topic.js";
import type { GroupSettings } from "./types.js";

/** A position in a topic. */
export interface Position {
  readonly partition: number;
  readonly offset: bigint;
}

/**
 * Messages taken for delivery: leases, and at the same index each value,
 * missing for redeliveries until read.
 */
export interface Taken {
  readonly leases: LinkedLease[];
  readonly values: (Uint8Array | undefined)[];
}

/** What {@link Group.ack} did. */
export interface AckOutcome {
  readonly acked: number;
  readonly ignored: Position[];
  /** Resolves once these acks are durable (only when asked for). */
  readonly durable: Promise<void> | undefined;
}

/** What a group needs from the broker around it. */
export interface GroupDeps {
  readonly clock: Clock;
  /** Asks for the group's dirty state to be persisted; with `wait`, resolves once durable. */
  readonly persist: (group: Group, wait: boolean) => Promise<void> | undefined;
  /** Publishes a message to the dead-letter topic; resolves to whether it was published (false: dropped). */
  readonly deadLetter: (d: DeadLetter) => Promise<boolean>;
  /** The key of a stored record (for ordered groups). */
  readonly keyOf: (value: Uint8Array) => string;
  readonly onError: (err: unknown, what: string) => void;
  /** The most messages leased at once, over every holder (--max-group-in-flight). */
  readonly maxInFlight: number;
}

/**
 * A consumer group at run time: its settings, partitions and subscriptions,
 * and (through its {@link GroupDispatcher}) the leasing of messages to its
 * subscriptions and to unary Fetch calls. Subscriptions pull: a stream is
 * handed work only when it asks for more and has credit, so nothing is
 * queued for a slow stream.
 */
export class Group {
  readonly consumers = new Map<string, Subscription>();
  /** Acks, nacks and extensions of positions that were not leased. */
  ignoredAcks = 0n;
  deleted = false;
  readonly #changed = new Notifier();
  readonly #dispatcher: GroupDispatcher;
  #fetcher: Subscription | undefined;

  constructor(
    public meta: GroupMeta & GroupSettings,
    readonly topic: Topic,
    readonly partitions: GroupPartition[],
    private readonly deps: GroupDeps,
  ) {
    this.#dispatcher = new GroupDispatcher(this, deps, this.#changed, new DeadLettering(this, deps, this.#changed));
  }

  get name(): string {
    return this.meta.name;
  }

  /** The holder of messages leased by unary Fetch calls; never in `consumers`. */
  get fetcher(): Subscription {
    this.#fetcher ??= new Subscription(this, {
      id: "fetch",
      name: "fetch",
      peer: "",
      maxInFlight: this.deps.maxInFlight,
      maxBatchBytes: 4 << 20,
      connectedAt: this.deps.clock.now(),
    });
    return this.#fetcher;
  }

  /** Messages leased now, to every stream and to Fetch. */
  get inFlight(): number {
    let n = 0;
    for (const gp of this.partitions) n += gp.inFlight.size;
    return n;
  }

  /**
   * Calls `wake` once, on the turn after anything changed that a subscription
   * with credit may be waiting for: new records, due redeliveries, released
   * keys, group credit, membership, settings, closing.
   */
  onChange(wake: () => void): void {
    this.#changed.onNotify(wake);
  }

  /** The log of partition `p` grew. */
  appended(_p: number): void {
    this.#changed.notify();
  }

  attach(sub: Subscription): void {
    this.consumers.set(sub.id, sub);
  }

  /** Removes a subscription; its leases go back to the group at once. */
  detach(sub: Subscription): void {
    if (!this.consumers.delete(sub.id)) return;
    this.#dispatcher.reclaim(sub);
    if (this.consumers.size === 0 && (this.#fetcher?.leases.size ?? 0) === 0) {
      for (const gp of this.partitions) gp.dropBuffer();
    }
    this.#changed.notify();
  }

  /**
   * Leases up to `max` messages (within about `maxBytes`) to `sub`:
   * redeliveries that are due first, then never-delivered records, rotating
   * over partitions. Starts background reads where read-ahead ran dry.
   */
  take(sub: Subscription, max: number, maxBytes: number): Taken {
    return this.#dispatcher.take(sub, max, maxBytes);
  }

  /**
   * Acknowledges positions: leased, waiting or dead-lettering messages become
   * acknowledged. Other positions are ignored and counted.
   */
  ack(positions: readonly Position[], wantDurable = false): AckOutcome {
    return this.#dispatcher.ack(positions, wantDurable);
  }

  /**
   * Gives back messages leased to `sub`, for redelivery after `delayMs`, or
   * after the group's retry backoff when undefined.
   */
  nack(sub: Subscription, positions: readonly Position[], delayMs: number | undefined): void {
    this.#dispatcher.nack(sub, positions, delayMs);
  }

  /** Moves the deadline of messages leased to `sub` to `now + ms`. */
  extend(sub: Subscription, positions: readonly Position[], ms: number): void {
    this.#dispatcher.extend(sub, positions, ms);
  }

  /**
   * Moves partitions to new positions (partition -> offset): leases, waits
   * and acks there are cleared, and consumers continue from the new position.
   */
  seek(offsets: ReadonlyMap<number, bigint>): void {
    for (const [p, offset] of offsets) {
      const gp = this.partitions[p]!;
      for (const lease of gp.reset(offset)) this.#dispatcher.forget(lease);
    }
    this.deps.persist(this, false);
    this.#changed.notify();
  }

  /** Retention removed records of partition `p` below `start`. */
  trimmed(p: number, start: bigint): void {
    const gp = this.partitions[p];
    if (gp === undefined || gp.acks.floor >= start) return;
    for (const lease of gp.trimmedTo(start, this.deps.clock.now())) this.#dispatcher.forget(lease);
    this.deps.persist(this, false);
    this.#changed.notify();
  }

  /** Applies new settings to the live group. */
  updateSettings(meta: GroupMeta & GroupSettings): void {
    const wasOrdered = this.meta.ordered;
    this.meta = meta;
    if (wasOrdered && !meta.ordered) {
      const now = this.deps.clock.now();
      for (const gp of this.partitions) gp.releaseAllKeys(now);
    }
    this.#changed.notify();
    this.#dispatcher.schedule();
  }

  /** Ends every subscription with `error` and stops timers. */
  close(error: BrokerError): void {
    this.deleted = true;
    for (const sub of [...this.consumers.values()]) sub.close(error);
    this.#fetcher?.close(error);
    this.#dispatcher.stop();
    this.#changed.notify();
  }

  // ---- topic growth (UpdateTopic; kept apart from the rest above) ----

  /** The topic gained partitions: the group reads them from their start. */
  addPartitions(gps: readonly GroupPartition[]): void {
    this.partitions.push(...gps);
    this.#changed.notify();
  }
}
