/**
 * Numbers sends in order (a `send` or a `sendBatch` call is one) and tells
 * when all sends up to a number have settled. It relies on the publisher's
 * guarantee that sends settle in the order they were made (batches are
 * sent, answered and, after a reconnect, resent in order), so one "settled
 * through" mark is enough.
 * @internal
 */
export class SettleSequence {
  #last = 0;
  #settledThrough = 0;
  #waiters: { seq: number; resolve: () => void }[] = [];

  /** The number of the next send. */
  next(): number {
    return ++this.#last;
  }

  /** Notes that every send up to `seq` has settled; wakes the waiters that covers. */
  settled(seq: number): void {
    if (seq > this.#settledThrough) this.#settledThrough = seq;
    let woken = 0;
    while (woken < this.#waiters.length && (this.#waiters[woken] as { seq: number }).seq <= this.#settledThrough) woken++;
    for (const w of this.#waiters.splice(0, woken)) w.resolve();
  }

  /** Resolves once every send numbered so far has settled. */
  allSettled(): Promise<void> {
    const seq = this.#last;
    if (this.#settledThrough >= seq) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ seq, resolve }));
  }

  /** Whether some caller waits in `allSettled()`. */
  get waited(): boolean {
    return this.#waiters.length > 0;
  }
}
