/**
 * A wake-up primitive: waiters park on {@link wait} and every {@link notify}
 * releases all of them. Level checks happen in the caller's loop, so a notify
 * between a check and the next wait cannot be missed as long as the caller
 * checks and waits in the same synchronous step.
 */
export class Notifier {
  #waiters: Array<() => void> = [];

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

  /** Wakes every current waiter. */
  notify(): void {
    if (this.#waiters.length === 0) return;
    const ws = this.#waiters;
    this.#waiters = [];
    for (const w of ws) w();
  }
}
