import { MinHeap } from "./min-heap.js";

/** A message waiting to be delivered again, or (attempt 0) a parked one freed by its key. */
export interface Waiting {
  readonly offset: bigint;
  /** The attempt of its last delivery; 0 if it was never delivered. */
  readonly attempt: number;
  /** Its key when it holds a key of an ordered group, else "". */
  readonly key: string;
  /** When it may be delivered (ms since the epoch). */
  readonly due: number;
}

/**
 * One partition's messages waiting for (re)delivery, by offset and by when
 * they are due. An entry is live while `waiting` maps its offset to it:
 * deleting or replacing it there cancels it, and the due-order heap skips
 * it when it surfaces (the heap is never searched).
 */
export class RedeliveryQueue {
  readonly waiting = new Map<bigint, Waiting>();
  readonly #due = new MinHeap<Waiting>((w) => w.due);

  /** Queues a message for (re)delivery at `due`. */
  add(offset: bigint, attempt: number, key: string, due: number): void {
    const w: Waiting = { offset, attempt, key, due };
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

  /** Removes and returns up to `max` waiting messages due by `now`, earliest first. */
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

  /** Forgets every waiting message. */
  clear(): void {
    this.waiting.clear();
    this.#due.clear();
  }
}
