/**
 * A wake-up primitive: waiters park on {@link wait} and a {@link notify}
 * releases all of them. Level checks happen in the caller's loop, so a notify
 * between a check and the next wait cannot be missed as long as the caller
 * checks and waits in the same synchronous step.
 *
 * Wake-ups are coalesced per event-loop turn: every notify of one turn wakes
 * each waiter once, on the next turn (`setImmediate`), instead of once per
 * notify. A group with N waiting streams that sees N changes at once (N
 * streams dropped together, a burst of acks) then does N wake-ups, not N².
 */
export class Notifier {
  #waiters: Array<() => void> = [];
  #scheduled = false;

  /** Resolves on the next notify, or when `signal` aborts. */
  wait(signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      const done = () => {
        signal?.removeEventListener("abort", done);
        resolve();
      };
      signal?.addEventListener("abort", done, { once: true });
      this.#waiters.push(done);
    });
  }

  /** Wakes every waiter present now (and any that parks before the wake-up runs), on the next turn. */
  notify(): void {
    if (this.#waiters.length === 0 || this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      const ws = this.#waiters;
      this.#waiters = [];
      for (const w of ws) w();
    });
  }
}
