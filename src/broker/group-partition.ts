import type { GroupPartitionState, StoredRecord } from "../storage/storage.js";
import { AckSet } from "./ack-set.js";
import type { Lease } from "./lease.js";
import { MinHeap } from "./min-heap.js";
import type { PartitionLog } from "./partition-log.js";

/** A message given back (nacked, expired, or released by a closed stream). */
export interface Waiting {
  readonly offset: bigint;
  /** The attempt of its last delivery. */
  readonly attempt: number;
  /** When it may be delivered again (ms since the epoch). */
  readonly due: number;
}

/** How many fresh records a partition reads ahead for its group. */
const READ_AHEAD_RECORDS = 1024;
const READ_AHEAD_BYTES = 1 << 20;

/**
 * One group's state in one partition: durable acks, live leases, messages
 * waiting for redelivery, and a small read-ahead of records never delivered.
 *
 * Every offset below `fetchPos` is exactly one of: acknowledged, leased
 * (`inFlight`), waiting, or buffered. Offsets at or above it were never read.
 */
export class GroupPartition {
  readonly acks: AckSet;
  readonly inFlight = new Map<bigint, Lease>();
  readonly waiting = new Map<bigint, Waiting>();
  readonly #due = new MinHeap<Waiting>((w) => w.due);
  #buffer: StoredRecord[] = [];
  #head = 0;
  /** The next offset to read from the log. */
  fetchPos: bigint;
  #filling = false;
  /** Acks changed since the state was last persisted. */
  dirty = false;

  constructor(
    readonly log: PartitionLog,
    state: GroupPartitionState,
  ) {
    this.acks = new AckSet(state.committed, state.acked);
    this.fetchPos = this.acks.floor > log.start ? this.acks.floor : log.start;
  }

  get partition(): number {
    return this.log.partition;
  }

  /** The durable form of the ack state. */
  state(): GroupPartitionState {
    return { committed: this.acks.floor, acked: this.acks.ranges() };
  }

  /** Messages at or above the committed offset not yet acknowledged. */
  get lag(): bigint {
    const lag = this.log.end - this.acks.floor - this.acks.ackedAbove;
    return lag > 0n ? lag : 0n;
  }

  /** Queues a message for redelivery at `due`. */
  giveBack(offset: bigint, attempt: number, due: number): void {
    const w: Waiting = { offset, attempt, due };
    this.waiting.set(offset, w);
    this.#due.push(w);
  }

  /** When the earliest waiting message is due, or undefined when none waits. */
  nextDue(): number | undefined {
    for (let w = this.#due.peek(); w !== undefined; w = this.#due.peek()) {
      if (this.waiting.get(w.offset) === w) return w.due;
      this.#due.pop();
    }
    return undefined;
  }

  /** Removes and returns up to `max` waiting messages due by `now`. */
  takeDue(now: number, max: number): Waiting[] {
    const out: Waiting[] = [];
    while (out.length < max) {
      const w = this.#due.peek();
      if (w === undefined || w.due > now) break;
      this.#due.pop();
      if (this.waiting.get(w.offset) !== w) continue; // acked or re-queued since
      this.waiting.delete(w.offset);
      out.push(w);
    }
    return out;
  }

  /** Removes and returns up to `max` never-delivered records (at least one if any, within `maxBytes`). */
  takeFresh(max: number, maxBytes: number): StoredRecord[] {
    if (this.#head >= this.#buffer.length) this.#fillFromCache();
    const out: StoredRecord[] = [];
    let bytes = 0;
    while (out.length < max && this.#head < this.#buffer.length) {
      const r = this.#buffer[this.#head]!;
      if (out.length > 0 && bytes + r.value.byteLength > maxBytes) break;
      bytes += r.value.byteLength;
      this.#buffer[this.#head++] = undefined as unknown as StoredRecord; // let it be collected
      out.push(r);
    }
    if (this.#head >= this.#buffer.length) {
      this.#buffer = [];
      this.#head = 0;
    }
    return out;
  }

  /** Whether an asynchronous read from storage would find fresh records. */
  get needsFill(): boolean {
    return !this.#filling && this.#head >= this.#buffer.length && this.fetchPos < this.log.end;
  }

  /** Reads the next fresh records from storage. Resolves true when it added any. */
  async fill(): Promise<boolean> {
    if (!this.needsFill) return false;
    this.#filling = true;
    try {
      const from = this.fetchPos;
      const records = await this.log.read(from, READ_AHEAD_RECORDS, READ_AHEAD_BYTES);
      // A seek or a reset while reading makes this read stale.
      if (this.fetchPos !== from) return false;
      return this.#accept(records);
    } finally {
      this.#filling = false;
    }
  }

  /** Drops the read-ahead (records are re-read later); used when no one consumes. */
  dropBuffer(): void {
    if (this.#head < this.#buffer.length) this.fetchPos = this.#buffer[this.#head]!.offset;
    this.#buffer = [];
    this.#head = 0;
  }

  #fillFromCache(): void {
    if (this.#filling || this.fetchPos >= this.log.end) return;
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
    return fresh.length > 0;
  }
}
