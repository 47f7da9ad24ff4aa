import type { Lease } from "./lease.js";
import { MinHeap } from "./min-heap.js";

/** Deadlines are grouped into buckets this wide; expiry may be this much late. */
const BUCKET_MS = 25;

/**
 * Lease deadlines, bucketed so that an ack removes its lease in O(1) and
 * memory holds only live leases (a plain heap would keep every acked lease
 * until its deadline passed: millions at high rates).
 */
export class LeaseTimeline {
  readonly #buckets = new Map<number, Set<Lease>>();
  readonly #order = new MinHeap<number>((t) => t);

  add(lease: Lease): void {
    const b = Math.ceil(lease.deadline / BUCKET_MS) * BUCKET_MS;
    lease.bucket = b;
    let set = this.#buckets.get(b);
    if (set === undefined) {
      set = new Set();
      this.#buckets.set(b, set);
      this.#order.push(b);
    }
    set.add(lease);
  }

  remove(lease: Lease): void {
    this.#buckets.get(lease.bucket)?.delete(lease);
  }

  /** Gives `lease` a new deadline. */
  move(lease: Lease, deadline: number): void {
    this.remove(lease);
    lease.deadline = deadline;
    this.add(lease);
  }

  /** Removes and returns every lease whose bucket ended at or before `now`. */
  expired(now: number): Lease[] {
    const out: Lease[] = [];
    for (let b = this.#order.peek(); b !== undefined && b <= now; b = this.#order.peek()) {
      this.#order.pop();
      const set = this.#buckets.get(b);
      this.#buckets.delete(b);
      if (set) for (const l of set) out.push(l);
    }
    return out;
  }

  /** When the next non-empty bucket ends, or undefined when none. */
  next(): number | undefined {
    for (let b = this.#order.peek(); b !== undefined; b = this.#order.peek()) {
      if ((this.#buckets.get(b)?.size ?? 0) > 0) return b;
      this.#order.pop();
      this.#buckets.delete(b);
    }
    return undefined;
  }

  clear(): void {
    this.#buckets.clear();
    this.#order.clear();
  }
}
