import type { GroupMeta } from "../storage/storage.js";
import { BrokerError } from "./broker-error.js";
import type { Clock } from "./clock.js";
import type { GroupPartition } from "./group-partition.js";
import type { Lease } from "./lease.js";
import { LeaseTimeline } from "./lease-timeline.js";
import { Notifier } from "./notifier.js";
import type { Subscription } from "./subscription.js";
import type { Topic } from "./topic.js";

/** A position in a topic. */
export interface Position {
  readonly partition: number;
  readonly offset: bigint;
}

/** One message taken for delivery; `value` is missing for redeliveries until read. */
export interface Taken {
  readonly lease: Lease;
  value: Uint8Array | undefined;
}

/** What a group needs from the broker around it. */
export interface GroupDeps {
  readonly clock: Clock;
  /** Asks for the group's dirty ack state to be persisted soon. */
  readonly persist: (group: Group) => void;
}

/**
 * A consumer group at run time: the dispatcher that leases messages to its
 * subscriptions. Subscriptions pull: a stream is handed work only when it asks
 * for more and has credit, so nothing is queued for a slow stream.
 */
export class Group {
  readonly consumers = new Map<string, Subscription>();
  /** Acks, nacks and extensions of positions that were not leased. */
  ignoredAcks = 0n;
  deleted = false;
  readonly #changed = new Notifier();
  readonly #timeline = new LeaseTimeline();
  #timerAt = Infinity;
  #cancelTimer: (() => void) | null = null;
  #rr = 0;

  constructor(
    public meta: GroupMeta,
    readonly topic: Topic,
    readonly partitions: GroupPartition[],
    private readonly deps: GroupDeps,
  ) {}

  get name(): string {
    return this.meta.name;
  }

  /** Resolves when anything a waiting subscription may care about changed. */
  changed(signal: AbortSignal): Promise<void> {
    return this.#changed.wait(signal);
  }

  /** The log of partition `p` grew. */
  appended(_p: number): void {
    if (this.consumers.size > 0) this.#changed.notify();
  }

  attach(sub: Subscription): void {
    this.consumers.set(sub.id, sub);
  }

  /** Removes a subscription; its leases go back to the group at once. */
  detach(sub: Subscription): void {
    if (!this.consumers.delete(sub.id)) return;
    const now = this.deps.clock.now();
    for (const lease of sub.leases) {
      this.#unlease(lease);
      lease.gp.giveBack(lease.offset, lease.attempt, now);
    }
    if (this.consumers.size === 0) for (const gp of this.partitions) gp.dropBuffer();
    this.#changed.notify();
  }

  /**
   * Leases up to `max` messages (within about `maxBytes`) to `sub`:
   * redeliveries that are due first, then never-delivered records, rotating
   * over partitions. Starts background reads where read-ahead ran dry.
   */
  take(sub: Subscription, max: number, maxBytes: number): Taken[] {
    const now = this.deps.clock.now();
    const deadline = now + this.meta.ackDeadlineMs;
    const out: Taken[] = [];
    const n = this.partitions.length;
    const start = this.#rr;
    this.#rr = (start + 1) % n;
    let bytes = 0;
    for (let k = 0; k < n && out.length < max; k++) {
      const gp = this.partitions[(start + k) % n]!;
      for (const w of gp.takeDue(now, max - out.length)) {
        out.push({ lease: this.#lease(gp, w.offset, w.attempt + 1, sub, deadline), value: undefined });
      }
    }
    for (let k = 0; k < n && out.length < max && bytes < maxBytes; k++) {
      const gp = this.partitions[(start + k) % n]!;
      for (const r of gp.takeFresh(max - out.length, maxBytes - bytes)) {
        bytes += r.value.byteLength;
        out.push({ lease: this.#lease(gp, r.offset, 1, sub, deadline), value: r.value });
      }
    }
    for (const gp of this.partitions) {
      if (gp.needsFill) {
        gp.fill().then(
          (added) => added && this.#changed.notify(),
          () => this.#changed.notify(), // the waiter retries; storage errors surface on its read
        );
      }
    }
    this.#schedule();
    return out;
  }

  /**
   * Acknowledges positions: leased or waiting messages become acknowledged.
   * Positions that are neither are ignored and counted.
   */
  ack(positions: readonly Position[]): void {
    let freed = false;
    let acked = false;
    for (const pos of positions) {
      const gp = this.partitions[pos.partition];
      if (gp === undefined) {
        this.ignoredAcks++;
        continue;
      }
      const lease = gp.inFlight.get(pos.offset);
      if (lease !== undefined) {
        this.#unlease(lease);
        freed = true;
      } else if (!gp.waiting.delete(pos.offset)) {
        this.ignoredAcks++;
        continue;
      }
      gp.acks.add(pos.offset);
      gp.dirty = true;
      acked = true;
    }
    if (acked) this.deps.persist(this);
    if (freed) this.#changed.notify();
  }

  /** Gives back messages leased to `sub`, for redelivery after `delayMs`. */
  nack(sub: Subscription, positions: readonly Position[], delayMs: number): void {
    const due = this.deps.clock.now() + delayMs;
    for (const pos of positions) {
      const lease = this.#ownLease(sub, pos);
      if (lease === undefined) continue;
      this.#unlease(lease);
      lease.gp.giveBack(lease.offset, lease.attempt, due);
    }
    // Credit was freed either way; a delayed message also needs the timer.
    this.#changed.notify();
    if (delayMs > 0) this.#schedule();
  }

  /** Moves the deadline of messages leased to `sub` to `now + ms`. */
  extend(sub: Subscription, positions: readonly Position[], ms: number): void {
    const deadline = this.deps.clock.now() + ms;
    for (const pos of positions) {
      const lease = this.#ownLease(sub, pos);
      if (lease !== undefined) this.#timeline.move(lease, deadline);
    }
    this.#schedule();
  }

  /** Ends every subscription with `error` and stops timers. */
  close(error: BrokerError): void {
    this.deleted = true;
    for (const sub of [...this.consumers.values()]) sub.close(error);
    this.#cancelTimer?.();
    this.#cancelTimer = null;
    this.#timeline.clear();
  }

  #lease(gp: GroupPartition, offset: bigint, attempt: number, holder: Subscription, deadline: number): Lease {
    const lease: Lease = { gp, offset, attempt, holder, deadline, bucket: 0 };
    gp.inFlight.set(offset, lease);
    holder.leases.add(lease);
    this.#timeline.add(lease);
    return lease;
  }

  #unlease(lease: Lease): void {
    lease.gp.inFlight.delete(lease.offset);
    lease.holder.leases.delete(lease);
    this.#timeline.remove(lease);
  }

  #ownLease(sub: Subscription, pos: Position): Lease | undefined {
    const lease = this.partitions[pos.partition]?.inFlight.get(pos.offset);
    if (lease?.holder === sub) return lease;
    this.ignoredAcks++;
    return undefined;
  }

  /** Arms one timer for the earliest lease deadline or redelivery due time. */
  #schedule(): void {
    let at = this.#timeline.next() ?? Infinity;
    let due = Infinity;
    for (const gp of this.partitions) due = Math.min(due, gp.nextDue() ?? Infinity);
    // Already-due redeliveries need a taker, not a timer; take() reschedules.
    if (due <= this.deps.clock.now()) this.#changed.notify();
    else at = Math.min(at, due);
    if (at === Infinity || at >= this.#timerAt) return;
    this.#cancelTimer?.();
    this.#timerAt = at;
    this.#cancelTimer = this.deps.clock.setTimer(() => this.#onTimer(), Math.max(0, at - this.deps.clock.now()));
  }

  #onTimer(): void {
    this.#timerAt = Infinity;
    this.#cancelTimer = null;
    if (this.deleted) return;
    const now = this.deps.clock.now();
    for (const lease of this.#timeline.expired(now)) {
      lease.gp.inFlight.delete(lease.offset);
      lease.holder.leases.delete(lease);
      lease.gp.giveBack(lease.offset, lease.attempt, now);
    }
    this.#changed.notify();
    this.#schedule();
  }
}
