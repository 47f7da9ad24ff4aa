import type { GroupPartitionState, StoredRecord } from "../storage/storage.js";
import { AckSet } from "./ack-set.js";
import { KeyLocks } from "./key-locks.js";
import type { LinkedLease } from "./linked-lease.js";
import type { PartitionLog } from "./partition-log.js";
import { RedeliveryQueue, type Waiting } from "./redelivery-queue.js";

/** How many fresh records a partition reads ahead for its group. */
const READ_AHEAD_RECORDS = 1024;
const READ_AHEAD_BYTES = 1 << 20;
/** Past this many parked messages (ordered groups) reading stops until keys free up. */
const MAX_PARKED = 100_000;

/**
 * One group's state in one partition: durable acks, live leases, messages
 * waiting for redelivery, a small read-ahead of records never delivered, and
 * for ordered groups the keys held by unacknowledged messages.
 *
 * Every offset below `fetchPos` is exactly one of: acknowledged, leased
 * (`inFlight`), waiting, being dead-lettered, parked behind its key, or
 * buffered. Offsets at or above it were never read.
 */
export class GroupPartition {
  acks: AckSet;
  readonly inFlight = new Map<bigint, LinkedLease>();
  readonly #redeliveries = new RedeliveryQueue();
  /** Messages waiting for (re)delivery; deleting one here cancels it. */
  readonly waiting = this.#redeliveries.waiting;
  /** Messages being published to the dead-letter topic, with their key. */
  readonly deadLettering = new Map<bigint, string>();
  /** Ordered groups: the keys held by unacknowledged messages, and the messages parked behind them. */
  readonly keys = new KeyLocks();
  /** Delivery counts from before a restart, for groups with a delivery limit. */
  readonly #restoredAttempts: Map<bigint, number>;
  #buffer: StoredRecord[] = [];
  #head = 0;
  /** The next offset to read from the log. */
  fetchPos: bigint;
  #filling = 0;
  /** Acks changed since the state was last persisted. */
  dirty = false;
  deadLettered: bigint;
  dropped: bigint;
  skipped: bigint;

  constructor(
    readonly log: PartitionLog,
    state: GroupPartitionState,
  ) {
    this.acks = new AckSet(state.committed, state.acked);
    this.fetchPos = this.acks.floor > log.start ? this.acks.floor : log.start;
    this.#restoredAttempts = new Map(state.attempts ?? []);
    this.deadLettered = state.deadLettered ?? 0n;
    this.dropped = state.dropped ?? 0n;
    this.skipped = state.skipped ?? 0n;
  }

  get partition(): number {
    return this.log.partition;
  }

  /** The durable form of the state; delivery counts only when asked for. */
  state(withAttempts: boolean): GroupPartitionState {
    const base = {
      committed: this.acks.floor,
      acked: this.acks.ranges(),
      deadLettered: this.deadLettered,
      dropped: this.dropped,
      skipped: this.skipped,
    };
    if (!withAttempts) return base;
    const attempts = new Map(this.#restoredAttempts);
    for (const l of this.inFlight.values()) attempts.set(l.offset, l.attempt);
    for (const w of this.waiting.values()) if (w.attempt > 0) attempts.set(w.offset, w.attempt);
    return { ...base, attempts: [...attempts].sort((a, b) => (a[0] < b[0] ? -1 : 1)) };
  }

  /** Queues a message for (re)delivery at `due`. */
  giveBack(offset: bigint, attempt: number, key: string, due: number): void {
    this.#redeliveries.add(offset, attempt, key, due);
  }

  /** When the earliest waiting message is due, or undefined when none waits. */
  nextDue(): number | undefined {
    return this.#redeliveries.nextDue();
  }

  /** Removes and returns up to `max` waiting messages due by `now`. */
  takeDue(now: number, max: number): Waiting[] {
    return this.#redeliveries.takeDue(now, max);
  }

  /**
   * Removes and returns up to `max` never-delivered records (at least one if
   * any, within `maxBytes`). With `keyOf` (ordered groups), a record whose
   * key is held by an unacknowledged message is parked instead, a returned
   * record takes hold of its key, and `keys` receives the key of each
   * returned record, at the same index.
   */
  takeFresh(max: number, maxBytes: number, now: number, keyOf?: (value: Uint8Array) => string, keys?: string[]): StoredRecord[] {
    if (this.#head >= this.#buffer.length) this.#fillFromCache();
    const buffer = this.#buffer;
    let out: StoredRecord[];
    if (keyOf === undefined) {
      // Unordered: the records are handed out as they are, one slice.
      const from = this.#head;
      let to = from;
      let bytes = 0;
      while (to - from < max && to < buffer.length) {
        const size = buffer[to]!.value.byteLength;
        if (to > from && bytes + size > maxBytes) break;
        bytes += size;
        to++;
      }
      out = buffer.slice(from, to);
      this.#head = to;
    } else {
      out = [];
      // Read once per call: the loop below runs once per record.
      const holders = this.keys.holders;
      let bytes = 0;
      while (out.length < max && this.#head < buffer.length) {
        const r = buffer[this.#head]!;
        if (out.length > 0 && bytes + r.value.byteLength > maxBytes) break;
        this.#head++;
        const key = keyOf(r.value);
        if (key !== "") {
          if (holders.has(key)) {
            this.keys.park(key, r.offset, now);
            continue;
          }
          holders.set(key, r.offset);
        }
        bytes += r.value.byteLength;
        out.push(r);
        keys?.push(key);
      }
    }
    // The taken records stay referenced here until the read-ahead (at most
    // 1 MiB) is used up, then go all at once.
    if (this.#head >= buffer.length) {
      this.#buffer = [];
      this.#head = 0;
    }
    return out;
  }

  /** Deliveries of the message at `offset` before a restart (0 normally). */
  priorAttempts(offset: bigint): number {
    return this.#restoredAttempts.size === 0 ? 0 : (this.#restoredAttempts.get(offset) ?? 0);
  }

  /** Forgets a delivery count from before a restart once the message is settled. */
  settled(offset: bigint): void {
    if (this.#restoredAttempts.size > 0) this.#restoredAttempts.delete(offset);
  }

  /**
   * The message at `offset` no longer holds `key` (acked or dead-lettered):
   * the next parked message of the key, if any, becomes deliverable.
   * Returns whether one did.
   */
  releaseKey(key: string, offset: bigint, now: number): boolean {
    const next = this.keys.release(key, offset, now);
    if (next === undefined) return false;
    this.giveBack(next, this.#restoredAttempts.get(next) ?? 0, key, now);
    return true;
  }

  /** Frees every parked message (the group stopped being ordered). */
  releaseAllKeys(now: number): void {
    for (const p of this.keys.parked.values()) for (const o of p.offsets) this.giveBack(o, 0, "", now);
    // Messages holding keys keep their leases; their acks then release nothing.
    this.keys.clear();
  }

  /** Whether an asynchronous read from storage would find fresh records. */
  get needsFill(): boolean {
    return (
      this.#filling === 0 &&
      this.#head >= this.#buffer.length &&
      this.fetchPos < this.log.end &&
      this.keys.parkedCount < MAX_PARKED
    );
  }

  /**
   * Reads the next fresh records from storage. Resolves true when it moved
   * on (added records, or skipped records acknowledged before a restart):
   * either way the dispatcher must look again, or a read of only
   * acknowledged records would leave the group waiting for nothing.
   */
  async fill(): Promise<boolean> {
    if (!this.needsFill) return false;
    const epoch = ++this.#filling;
    try {
      const from = this.fetchPos;
      const records = await this.log.read(from, READ_AHEAD_RECORDS, READ_AHEAD_BYTES);
      // A seek or trim while reading makes this read stale.
      if (this.#filling !== epoch || this.fetchPos !== from) return false;
      return this.#accept(records);
    } finally {
      if (this.#filling === epoch) this.#filling = 0;
    }
  }

  /** Drops the read-ahead (records are re-read later); used when no one consumes. */
  dropBuffer(): void {
    if (this.#head < this.#buffer.length) this.fetchPos = this.#buffer[this.#head]!.offset;
    this.#buffer = [];
    this.#head = 0;
  }

  /**
   * Starts over at `offset`: everything below counts as acknowledged,
   * nothing at or above does, and all leases, waits, parked messages and
   * read-ahead are forgotten. Returns the leases that were dropped, so their
   * holders can forget them too.
   */
  reset(offset: bigint): LinkedLease[] {
    const dropped = [...this.inFlight.values()];
    this.inFlight.clear();
    this.#redeliveries.clear();
    this.deadLettering.clear();
    this.keys.clear();
    this.#restoredAttempts.clear();
    this.#buffer = [];
    this.#head = 0;
    this.#filling = 0; // any read in progress is now stale
    this.acks = new AckSet(offset);
    this.fetchPos = offset;
    this.dirty = true;
    return dropped;
  }

  /**
   * The log's head moved to `start` (retention): offsets below it can never
   * be delivered. Unacknowledged ones count as skipped; the group moves on.
   * Returns the leases that were dropped.
   */
  trimmedTo(start: bigint, now: number): LinkedLease[] {
    if (this.acks.floor >= start) return [];
    let acked = 0n;
    for (const [s, e] of this.acks.ranges()) {
      if (s >= start) break;
      acked += (e < start ? e : start) - s;
    }
    this.skipped += start - this.acks.floor - acked;
    const dropped: LinkedLease[] = [];
    for (const [o, l] of this.inFlight) {
      if (o < start) {
        this.inFlight.delete(o);
        dropped.push(l);
      }
    }
    for (const o of this.waiting.keys()) if (o < start) this.waiting.delete(o);
    for (const o of this.deadLettering.keys()) if (o < start) this.deadLettering.delete(o);
    // Parked messages below the start are gone too: drop them before keys are
    // released, or releasing a key would queue one of them for delivery.
    this.keys.dropBelow(start);
    for (const [k, o] of this.keys.holders) if (o < start) this.releaseKey(k, o, now);
    this.acks.advanceFloor(start);
    if (this.fetchPos < start) {
      this.#buffer = [];
      this.#head = 0;
      this.#filling = 0;
      this.fetchPos = start;
    } else {
      // Read-ahead below the start was just counted as skipped: never deliver it.
      while (this.#head < this.#buffer.length && this.#buffer[this.#head]!.offset < start) this.#head++;
    }
    this.dirty = true;
    return dropped;
  }

  #fillFromCache(): void {
    if (this.#filling !== 0 || this.fetchPos >= this.log.end || this.keys.parkedCount >= MAX_PARKED) return;
    const records = this.log.readCached(this.fetchPos, READ_AHEAD_RECORDS);
    if (records !== undefined) this.#accept(records);
  }

  #accept(records: StoredRecord[]): boolean {
    const last = records[records.length - 1];
    if (last === undefined) return false;
    this.fetchPos = last.offset + 1n;
    // After a restart, acks above the floor mark records that must be skipped.
    const fresh = this.acks.ackedAbove > 0n ? records.filter((r) => !this.acks.has(r.offset)) : records;
    this.#buffer = this.#head < this.#buffer.length ? this.#buffer.slice(this.#head).concat(fresh) : fresh;
    this.#head = 0;
    return true;
  }
}
