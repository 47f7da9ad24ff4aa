import type { LinkedLease } from "./linked-lease.js";

/**
 * The leases one subscription holds: an intrusive doubly-linked list through
 * the leases' `held*` links, so adding and removing is O(1) with no hash
 * entry. A lease is in at most one such list (its holder's). A holder out
 * of credit waits on {@link onFreed}: only its own leases can give it more,
 * so an ack wakes the one stream it freed, not every stream of the group.
 */
export class HeldLeases implements Iterable<LinkedLease> {
  #head: LinkedLease | null = null;
  #size = 0;
  #onFreed: Array<() => void> = [];

  /** How many leases are held. */
  get size(): number {
    return this.#size;
  }

  /** Adds a lease that is in no list. */
  add(lease: LinkedLease): void {
    lease.heldPrev = null;
    lease.heldNext = this.#head;
    if (this.#head !== null) this.#head.heldPrev = lease;
    this.#head = lease;
    this.#size++;
  }

  /** Removes a lease; a lease not in this list is left alone. */
  delete(lease: LinkedLease): void {
    const { heldPrev: prev, heldNext: next } = lease;
    if (prev === null && this.#head !== lease) return;
    if (prev === null) this.#head = next;
    else prev.heldNext = next;
    if (next !== null) next.heldPrev = prev;
    lease.heldPrev = lease.heldNext = null;
    this.#size--;
    if (this.#onFreed.length > 0) {
      const ws = this.#onFreed;
      this.#onFreed = [];
      for (const w of ws) w();
    }
  }

  /**
   * Calls `wake` once, synchronously, when the next lease is removed. It
   * runs in the middle of whatever removes it (an ack of many positions), so
   * it should only schedule work, e.g. resolve a promise.
   */
  onFreed(wake: () => void): void {
    this.#onFreed.push(wake);
  }

  /** The leases, newest first; removing the current one while iterating is safe. */
  *[Symbol.iterator](): Iterator<LinkedLease> {
    for (let l = this.#head; l !== null; ) {
      const next = l.heldNext;
      yield l;
      l = next;
    }
  }
}
