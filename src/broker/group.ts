import type { GroupMeta } from "../storage/storage.js";
import type { BrokerError } from "./broker-error.js";
import type { Clock } from "./clock.js";
import type { DeadLetter } from "./dead-letter.js";
import type { GroupPartition } from "./group-partition.js";
import { LeaseTimeline } from "./lease-timeline.js";
import { type LinkedLease, newLease } from "./linked-lease.js";
import { Notifier } from "./notifier.js";
import { retryDelay } from "./retry-backoff.js";
import { Subscription } from "./subscription.js";
import type { Topic } from "./topic.js";
import type { DeadLetterReason, GroupSettings } from "./types.js";

/** The pause after a failed log read before reading again. */
const READ_RETRY_MS = 200;

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
 * A consumer group at run time: the dispatcher that leases messages to its
 * subscriptions (and to unary Fetch calls). Subscriptions pull: a stream is
 * handed work only when it asks for more and has credit, so nothing is
 * queued for a slow stream.
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
  #fetcher: Subscription | undefined;
  /** After a failed read, no read starts before this time. */
  #readRetryAt = 0;

  constructor(
    public meta: GroupMeta & GroupSettings,
    readonly topic: Topic,
    readonly partitions: GroupPartition[],
    private readonly deps: GroupDeps,
  ) {}

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

  /** Resolves when anything a waiting subscription may care about changed. */
  changed(signal: AbortSignal): Promise<void> {
    return this.#changed.wait(signal);
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
    const now = this.deps.clock.now();
    for (const lease of [...sub.leases]) {
      this.#unlease(lease);
      this.#retire(lease.gp, lease.offset, lease.attempt, lease.key, "deadline", now);
    }
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
    const leases: LinkedLease[] = [];
    const values: (Uint8Array | undefined)[] = [];
    const out: Taken = { leases, values };
    // The group's own credit: past it, takers wait for an ack, nack or expiry.
    max = Math.min(max, this.deps.maxInFlight - this.inFlight);
    if (max <= 0) return out;
    const now = this.deps.clock.now();
    const deadline = now + this.meta.ackDeadlineMs;
    const n = this.partitions.length;
    const start = this.#rr;
    this.#rr = (start + 1) % n;
    let bytes = 0;
    for (let k = 0; k < n && leases.length < max; k++) {
      const gp = this.partitions[(start + k) % n]!;
      for (const w of gp.takeDue(now, max - leases.length)) {
        leases.push(this.#lease(gp, w.offset, w.attempt + 1, w.key, sub, deadline));
        values.push(undefined);
      }
    }
    const keyOf = this.meta.ordered ? this.deps.keyOf : undefined;
    const keys: string[] = [];
    const limit = this.meta.maxDeliveries;
    for (let k = 0; k < n && leases.length < max && bytes < maxBytes; k++) {
      const gp = this.partitions[(start + k) % n]!;
      keys.length = 0;
      const records = gp.takeFresh(max - leases.length, maxBytes - bytes, now, keyOf, keys);
      for (let i = 0; i < records.length; i++) {
        const r = records[i]!;
        const key = keyOf === undefined ? "" : keys[i]!;
        const prior = gp.priorAttempts(r.offset);
        if (limit > 0 && prior >= limit) {
          // Delivered to the limit before a restart: dead-letter instead.
          this.#deadLetter(gp, r.offset, prior, key, "deadline");
          continue;
        }
        bytes += r.value.byteLength;
        leases.push(this.#lease(gp, r.offset, prior + 1, key, sub, deadline));
        values.push(r.value);
      }
    }
    for (const gp of this.partitions) {
      if (gp.needsFill && now >= this.#readRetryAt) {
        gp.fill().then(
          (added) => added && this.#changed.notify(),
          (err: unknown) => {
            // Storage trouble: try again shortly rather than in a tight loop.
            this.deps.onError(err, "reading the log");
            this.#readRetryAt = this.deps.clock.now() + READ_RETRY_MS;
            this.deps.clock.setTimer(() => this.#changed.notify(), READ_RETRY_MS);
          },
        );
      }
    }
    // Delivery counts must survive a restart when a delivery limit applies.
    if (leases.length > 0 && limit > 0) {
      for (const l of leases) l.gp.dirty = true;
      this.deps.persist(this, false);
    }
    this.#schedule();
    return out;
  }

  /**
   * Acknowledges positions: leased, waiting or dead-lettering messages become
   * acknowledged. Other positions are ignored and counted.
   */
  ack(positions: readonly Position[], wantDurable = false): AckOutcome {
    const now = this.deps.clock.now();
    const ignored: Position[] = [];
    let acked = 0;
    let freed = false;
    // Acked offsets reach the ack sets as runs of consecutive offsets (a
    // stream acks its batches in order), not one range operation each.
    let run: GroupPartition | undefined;
    let runStart = 0n;
    let runLength = 0;
    let runNext = -1;
    for (const pos of positions) {
      const gp = this.partitions[pos.partition];
      let key: string | undefined;
      const lease = gp?.inFlight.get(pos.offset);
      if (lease !== undefined) {
        this.#unlease(lease);
        key = lease.key;
        freed = true;
      } else if (gp !== undefined) {
        key = gp.waiting.get(pos.offset)?.key ?? gp.deadLettering.get(pos.offset);
        gp.waiting.delete(pos.offset);
        gp.deadLettering.delete(pos.offset);
      }
      if (gp === undefined || key === undefined) {
        this.ignoredAcks++;
        ignored.push(pos);
        continue;
      }
      const o = Number(pos.offset);
      if (gp === run && o === runNext && o <= Number.MAX_SAFE_INTEGER) {
        runLength++;
        runNext++;
      } else {
        if (run !== undefined) run.acks.addRange(runStart, runStart + BigInt(runLength));
        run = gp;
        runStart = pos.offset;
        runLength = 1;
        runNext = o + 1;
      }
      gp.settled(pos.offset);
      if (key !== "") {
        gp.releaseKey(key, pos.offset, now);
        freed = true;
      }
      gp.dirty = true;
      acked++;
    }
    if (run !== undefined) run.acks.addRange(runStart, runStart + BigInt(runLength));
    const durable = acked > 0 ? this.deps.persist(this, wantDurable) : wantDurable ? Promise.resolve() : undefined;
    if (freed) this.#changed.notify();
    return { acked, ignored, durable };
  }

  /**
   * Gives back messages leased to `sub`, for redelivery after `delayMs`, or
   * after the group's retry backoff when undefined.
   */
  nack(sub: Subscription, positions: readonly Position[], delayMs: number | undefined): void {
    const now = this.deps.clock.now();
    for (const pos of positions) {
      const lease = this.#ownLease(sub, pos);
      if (lease === undefined) continue;
      this.#unlease(lease);
      const due = now + (delayMs ?? this.#backoff(lease.attempt));
      this.#retire(lease.gp, lease.offset, lease.attempt, lease.key, "nack", due);
    }
    // Credit was freed either way; a delayed message also needs the timer.
    this.#changed.notify();
    this.#schedule();
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

  /**
   * Moves partitions to new positions (partition -> offset): leases, waits
   * and acks there are cleared, and consumers continue from the new position.
   */
  seek(offsets: ReadonlyMap<number, bigint>): void {
    for (const [p, offset] of offsets) {
      const gp = this.partitions[p]!;
      for (const lease of gp.reset(offset)) this.#forget(lease);
    }
    this.deps.persist(this, false);
    this.#changed.notify();
  }

  /** Retention removed records of partition `p` below `start`. */
  trimmed(p: number, start: bigint): void {
    const gp = this.partitions[p];
    if (gp === undefined || gp.acks.floor >= start) return;
    for (const lease of gp.trimmedTo(start, this.deps.clock.now())) this.#forget(lease);
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
    this.#schedule();
  }

  /** Ends every subscription with `error` and stops timers. */
  close(error: BrokerError): void {
    this.deleted = true;
    for (const sub of [...this.consumers.values()]) sub.close(error);
    this.#fetcher?.close(error);
    this.#cancelTimer?.();
    this.#cancelTimer = null;
    this.#timeline.clear();
    this.#changed.notify();
  }

  #backoff(attempt: number): number {
    return retryDelay(attempt, this.meta.retryBackoffMinMs, this.meta.retryBackoffMaxMs);
  }

  /** A delivery failed: redeliver at `due`, or dead-letter past the limit. */
  #retire(gp: GroupPartition, offset: bigint, attempt: number, key: string, reason: DeadLetterReason, due: number): void {
    const limit = this.meta.maxDeliveries;
    if (limit > 0 && attempt >= limit) this.#deadLetter(gp, offset, attempt, key, reason);
    else gp.giveBack(offset, attempt, key, due);
  }

  #deadLetter(gp: GroupPartition, offset: bigint, attempts: number, key: string, reason: DeadLetterReason): void {
    gp.deadLettering.set(offset, key);
    this.deps.deadLetter({ group: this, gp, offset, attempts, reason }).then(
      (published) => {
        // Acked meanwhile, or the group was reset: nothing more to do.
        if (gp.deadLettering.get(offset) !== key || this.deleted) return;
        gp.deadLettering.delete(offset);
        gp.acks.add(offset);
        gp.settled(offset);
        if (published) gp.deadLettered++;
        else gp.dropped++;
        gp.releaseKey(key, offset, this.deps.clock.now());
        gp.dirty = true;
        this.deps.persist(this, false);
        this.#changed.notify();
      },
      (err: unknown) => {
        if (gp.deadLettering.get(offset) !== key || this.deleted) return;
        this.deps.onError(err, "dead-lettering");
        // Try again later; the message keeps its key meanwhile, so order holds.
        this.deps.clock.setTimer(() => {
          if (!this.deleted && gp.deadLettering.get(offset) === key) this.#deadLetter(gp, offset, attempts, key, reason);
        }, 1000);
      },
    );
  }

  #lease(gp: GroupPartition, offset: bigint, attempt: number, key: string, holder: Subscription, deadline: number): LinkedLease {
    const lease = newLease(gp, offset, attempt, key, holder, deadline);
    gp.inFlight.set(offset, lease);
    holder.leases.add(lease);
    this.#timeline.add(lease);
    return lease;
  }

  #unlease(lease: LinkedLease): void {
    lease.gp.inFlight.delete(lease.offset);
    this.#forget(lease);
  }

  /** Drops a lease from its holder and the timeline (the partition already dropped it). */
  #forget(lease: LinkedLease): void {
    lease.holder.leases.delete(lease);
    this.#timeline.remove(lease);
  }

  #ownLease(sub: Subscription, pos: Position): LinkedLease | undefined {
    const lease = this.partitions[pos.partition]?.inFlight.get(pos.offset);
    if (lease?.holder === sub) return lease;
    this.ignoredAcks++;
    return undefined;
  }

  /** Arms one timer for the earliest lease deadline or future redelivery. */
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
      this.#retire(lease.gp, lease.offset, lease.attempt, lease.key, "deadline", now + this.#backoff(lease.attempt));
    }
    this.#changed.notify();
    this.#schedule();
  }

  // ---- topic growth (UpdateTopic; kept apart from the dispatcher above) ----

  /** The topic gained partitions: the group reads them from their start. */
  addPartitions(gps: readonly GroupPartition[]): void {
    this.partitions.push(...gps);
    this.#changed.notify();
  }
}
