/**
 * A wake-up primitive: waiters register a callback with {@link onNotify}
 * and a {@link notify} calls all of them. Level checks happen in the
 * caller's loop, so a notify between a check and the next registration
 * cannot be missed as long as the caller checks and registers in the same
 * synchronous step.
 *
 * Wake-ups are coalesced per event-loop turn: every notify of one turn wakes
 * each waiter once, on the next turn (`setImmediate`), instead of once per
 * notify. A group with N waiting streams that sees N changes at once (N
 * streams dropped together, a burst of acks) then does N wake-ups, not N².
 *
 * A callback rather than a promise per waiter: a waiter that gives up (its
 * stream closed) is simply called later and ignores it, so waiting costs no
 * abort listener.
 */
export class Notifier {
  #waiters: Array<() => void> = [];
  #scheduled = false;

  /** Calls `wake` once, on the turn after the next notify. */
  onNotify(wake: () => void): void {
    this.#waiters.push(wake);
  }

  /** Wakes every waiter present now (and any that registers before the wake-up runs), on the next turn. */
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
