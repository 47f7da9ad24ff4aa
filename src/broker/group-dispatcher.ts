import type { DeadLettering } from "./dead-lettering.js";
import type { AckOutcome, Group, GroupDeps, Position, Taken } from "./group.js";
import type { GroupPartition } from "./group-partition.js";
import { LeaseTimeline } from "./lease-timeline.js";
import { type LinkedLease, newLease } from "./linked-lease.js";
import type { Notifier } from "./notifier.js";
import { retryDelay } from "./retry-backoff.js";
import type { Subscription } from "./subscription.js";
import type { DeadLetterReason } from "./types.js";

/** The pause after a failed log read before reading again. */
const READ_RETRY_MS = 200;

/**
 * The lease machinery of one {@link Group}: it leases messages to holders,
 * settles them on ack, nack, extension and expiry, and keeps each lease in
 * step in its partition's `inFlight`, its holder's list and the deadline
 * timeline, with one timer for the earliest deadline or redelivery. The
 * group owns membership, settings and positions; this owns what is leased.
 */
export class GroupDispatcher {
  readonly #timeline = new LeaseTimeline();
  #timerAt = Infinity;
  #cancelTimer: (() => void) | null = null;
  #rr = 0;
  /** After a failed read, no read starts before this time. */
  #readRetryAt = 0;

  constructor(
    private readonly group: Group,
    private readonly deps: GroupDeps,
    private readonly changed: Notifier,
    private readonly deadLettering: DeadLettering,
  ) {}

  /** See {@link Group.take}. */
  take(sub: Subscription, max: number, maxBytes: number): Taken {
    const leases: LinkedLease[] = [];
    const values: (Uint8Array | undefined)[] = [];
    const out: Taken = { leases, values };
    const { meta, partitions } = this.group;
    // The group's own credit: past it, takers wait for an ack, nack or expiry.
    max = Math.min(max, this.deps.maxInFlight - this.group.inFlight);
    if (max <= 0) return out;
    const now = this.deps.clock.now();
    const deadline = now + meta.ackDeadlineMs;
    const n = partitions.length;
    const start = this.#rr;
    this.#rr = (start + 1) % n;
    let bytes = 0;
    for (let k = 0; k < n && leases.length < max; k++) {
      const gp = partitions[(start + k) % n]!;
      for (const w of gp.takeDue(now, max - leases.length)) {
        leases.push(this.#lease(gp, w.offset, w.attempt + 1, w.key, sub, deadline));
        values.push(undefined);
      }
    }
    const keyOf = meta.ordered ? this.deps.keyOf : undefined;
    const keys: string[] = [];
    const limit = meta.maxDeliveries;
    for (let k = 0; k < n && leases.length < max && bytes < maxBytes; k++) {
      const gp = partitions[(start + k) % n]!;
      keys.length = 0;
      const records = gp.takeFresh(max - leases.length, maxBytes - bytes, now, keyOf, keys);
      for (let i = 0; i < records.length; i++) {
        const r = records[i]!;
        const key = keyOf === undefined ? "" : keys[i]!;
        const prior = gp.priorAttempts(r.offset);
        if (limit > 0 && prior >= limit) {
          // Delivered to the limit before a restart: dead-letter instead.
          this.deadLettering.start(gp, r.offset, prior, key, "deadline");
          continue;
        }
        bytes += r.value.byteLength;
        leases.push(this.#lease(gp, r.offset, prior + 1, key, sub, deadline));
        values.push(r.value);
      }
    }
    for (const gp of partitions) {
      if (gp.needsFill && now >= this.#readRetryAt) {
        gp.fill().then(
          (added) => added && this.changed.notify(),
          (err: unknown) => {
            // Storage trouble: try again shortly rather than in a tight loop.
            this.deps.onError(err, "reading the log");
            this.#readRetryAt = this.deps.clock.now() + READ_RETRY_MS;
            this.deps.clock.setTimer(() => this.changed.notify(), READ_RETRY_MS);
          },
        );
      }
    }
    // Delivery counts must survive a restart when a delivery limit applies.
    if (leases.length > 0 && limit > 0) {
      for (const l of leases) l.gp.dirty = true;
      this.deps.persist(this.group, false);
    }
    this.schedule();
    return out;
  }

  /** See {@link Group.ack}. */
  ack(positions: readonly Position[], wantDurable: boolean): AckOutcome {
    const { partitions } = this.group;
    const now = this.deps.clock.now();
    const ignored: Position[] = [];
    let acked = 0;
    // A lease that goes wakes its holder (`HeldLeases.onFreed`); the other
    // streams only care when that lifts the group's own credit limit or a
    // released key lets a parked message go.
    let unleased = 0;
    let freed = false;
    // Acked offsets reach the ack sets as runs of consecutive offsets (a
    // stream acks its batches in order), not one range operation each.
    let run: GroupPartition | undefined;
    let runStart = 0n;
    let runLength = 0;
    let runNext = -1;
    for (const pos of positions) {
      const gp = partitions[pos.partition];
      let key: string | undefined;
      const lease = gp?.inFlight.get(pos.offset);
      if (lease !== undefined) {
        this.#unlease(lease);
        key = lease.key;
        unleased++;
      } else if (gp !== undefined) {
        key = gp.waiting.get(pos.offset)?.key ?? gp.deadLettering.get(pos.offset);
        gp.waiting.delete(pos.offset);
        gp.deadLettering.delete(pos.offset);
      }
      if (gp === undefined || key === undefined) {
        this.group.ignoredAcks++;
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
      if (key !== "" && gp.releaseKey(key, pos.offset, now)) freed = true;
      gp.dirty = true;
      acked++;
    }
    if (run !== undefined) run.acks.addRange(runStart, runStart + BigInt(runLength));
    const durable = acked > 0 ? this.deps.persist(this.group, wantDurable) : wantDurable ? Promise.resolve() : undefined;
    if (freed || (unleased > 0 && this.group.inFlight + unleased >= this.deps.maxInFlight)) this.changed.notify();
    return { acked, ignored, durable };
  }

  /** See {@link Group.nack}. */
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
    this.changed.notify();
    this.schedule();
  }

  /** See {@link Group.extend}. */
  extend(sub: Subscription, positions: readonly Position[], ms: number): void {
    const deadline = this.deps.clock.now() + ms;
    for (const pos of positions) {
      const lease = this.#ownLease(sub, pos);
      if (lease !== undefined) this.#timeline.move(lease, deadline);
    }
    this.schedule();
  }

  /** Takes back every lease `sub` holds, as if each deadline passed now. */
  reclaim(sub: Subscription): void {
    const now = this.deps.clock.now();
    for (const lease of [...sub.leases]) {
      this.#unlease(lease);
      this.#retire(lease.gp, lease.offset, lease.attempt, lease.key, "deadline", now);
    }
  }

  /** Drops a lease from its holder and the timeline (the partition already dropped it). */
  forget(lease: LinkedLease): void {
    lease.holder.leases.delete(lease);
    this.#timeline.remove(lease);
  }

  /** Arms one timer for the earliest lease deadline or future redelivery. */
  schedule(): void {
    let at = this.#timeline.next() ?? Infinity;
    let due = Infinity;
    for (const gp of this.group.partitions) due = Math.min(due, gp.nextDue() ?? Infinity);
    // Already-due redeliveries need a taker, not a timer; take() reschedules.
    if (due <= this.deps.clock.now()) this.changed.notify();
    else at = Math.min(at, due);
    if (at === Infinity || at >= this.#timerAt) return;
    this.#cancelTimer?.();
    this.#timerAt = at;
    this.#cancelTimer = this.deps.clock.setTimer(() => this.#onTimer(), Math.max(0, at - this.deps.clock.now()));
  }

  /** Stops the timer and forgets every deadline (the group was closed). */
  stop(): void {
    this.#cancelTimer?.();
    this.#cancelTimer = null;
    this.#timeline.clear();
  }

  #backoff(attempt: number): number {
    const { meta } = this.group;
    return retryDelay(attempt, meta.retryBackoffMinMs, meta.retryBackoffMaxMs);
  }

  /** A delivery failed: redeliver at `due`, or dead-letter past the limit. */
  #retire(gp: GroupPartition, offset: bigint, attempt: number, key: string, reason: DeadLetterReason, due: number): void {
    const limit = this.group.meta.maxDeliveries;
    if (limit > 0 && attempt >= limit) this.deadLettering.start(gp, offset, attempt, key, reason);
    else gp.giveBack(offset, attempt, key, due);
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
    this.forget(lease);
  }

  #ownLease(sub: Subscription, pos: Position): LinkedLease | undefined {
    const lease = this.group.partitions[pos.partition]?.inFlight.get(pos.offset);
    if (lease?.holder === sub) return lease;
    this.group.ignoredAcks++;
    return undefined;
  }

  #onTimer(): void {
    this.#timerAt = Infinity;
    this.#cancelTimer = null;
    if (this.group.deleted) return;
    const now = this.deps.clock.now();
    for (const lease of this.#timeline.expired(now)) {
      lease.gp.inFlight.delete(lease.offset);
      lease.holder.leases.delete(lease);
      this.#retire(lease.gp, lease.offset, lease.attempt, lease.key, "deadline", now + this.#backoff(lease.attempt));
    }
    this.changed.notify();
    this.schedule();
  }
}
