import type { LinkedLease } from "./linked-lease.js";
import { MinHeap } from "./min-heap.js";

/** Deadlines are grouped into buckets this wide; expiry may be this much late. */
const BUCKET_MS = 25;

/** The leases whose deadlines end in one bucket: a list through their `time*` links. */
export interface TimelineBucket {
  /** When the bucket ends (ms since the epoch). */
  readonly end: number;
  head: LinkedLease | null;
  size: number;
}

/**
 * Lease deadlines, bucketed so that an ack removes its lease in O(1) and
 * memory holds only live leases (a plain heap would keep every acked lease
 * until its deadline passed: millions at high rates). Each bucket is an
 * intrusive list through the leases' `time*` links, and a lease points at
 * its bucket, so adding and removing touch no hash table (one map lookup
 * per batch of leases with the same deadline, see {@link add}).
 */
export class LeaseTimeline {
  readonly #buckets = new Map<number, TimelineBucket>();
  readonly #order = new MinHeap<number>((t) => t);
  /** The bucket used last: leases taken together share it. */
  #last: TimelineBucket | null = null;

  /** Links `lease` into the bucket of its deadline. It must be in no bucket. */
  add(lease: LinkedLease): void {
    const end = Math.ceil(lease.deadline / BUCKET_MS) * BUCKET_MS;
    let b = this.#last;
    if (b === null || b.end !== end) {
      b = this.#buckets.get(end) ?? null;
      if (b === null) {
        b = { end, head: null, size: 0 };
        this.#buckets.set(end, b);
        this.#order.push(end);
      }
      this.#last = b;
    }
    lease.slot = b;
    lease.timePrev = null;
    lease.timeNext = b.head;
    if (b.head !== null) b.head.timePrev = lease;
    b.head = lease;
    b.size++;
  }

  /** Unlinks `lease` from its bucket, if it is in one. */
  remove(lease: LinkedLease): void {
    const b = lease.slot;
    if (b === null) return;
    const { timePrev: prev, timeNext: next } = lease;
    if (prev === null) b.head = next;
    else prev.timeNext = next;
    if (next !== null) next.timePrev = prev;
    lease.timePrev = lease.timeNext = null;
    lease.slot = null;
    b.size--;
  }

  /** Gives `lease` a new deadline. */
  move(lease: LinkedLease, deadline: number): void {
    this.remove(lease);
    lease.deadline = deadline;
    this.add(lease);
  }

  /** Removes and returns every lease whose bucket ended at or before `now`. */
  expired(now: number): LinkedLease[] {
    const out: LinkedLease[] = [];
    for (let end = this.#order.peek(); end !== undefined && end <= now; end = this.#order.peek()) {
      this.#order.pop();
      const b = this.#buckets.get(end);
      this.#buckets.delete(end);
      if (b === undefined) continue;
      if (this.#last === b) this.#last = null;
      for (let l = b.head; l !== null; ) {
        const next = l.timeNext;
        l.timePrev = l.timeNext = null;
        l.slot = null;
        out.push(l);
        l = next;
      }
      b.head = null;
      b.size = 0;
    }
    return out;
  }

  /** When the next non-empty bucket ends, or undefined when none. */
  next(): number | undefined {
    for (let end = this.#order.peek(); end !== undefined; end = this.#order.peek()) {
      if ((this.#buckets.get(end)?.size ?? 0) > 0) return end;
      this.#order.pop();
      const b = this.#buckets.get(end);
      if (this.#last === b) this.#last = null;
      this.#buckets.delete(end);
    }
    return undefined;
  }

  clear(): void {
    // Unlink, so a lease removed later finds no stale bucket.
    for (const b of this.#buckets.values()) {
      for (let l = b.head; l !== null; ) {
        const next = l.timeNext;
        l.timePrev = l.timeNext = null;
        l.slot = null;
        l = next;
      }
    }
    this.#buckets.clear();
    this.#order.clear();
    this.#last = null;
  }
}
