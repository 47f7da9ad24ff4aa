/**
 * A FIFO handed out to any number of concurrent pullers. It does not bound
 * itself: its producer must (the subscription's is bounded by the broker's
 * `max_in_flight`). `close()` ends pullers at once and discards what is left;
 * `fail(error)` makes pullers throw.
 * @internal
 */
export class AsyncQueue<T> {
  #items: T[] = [];
  #head = 0;
  readonly #pullers: { resolve: (r: IteratorResult<T>) => void; reject: (e: unknown) => void }[] = [];
  #closed = false;
  #error: unknown;
  #failed = false;

  /** How many items wait to be pulled. */
  get length(): number {
    return this.#items.length - this.#head;
  }

  /** Whether `close()` or `fail()` was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Hands `item` to a waiting puller, or keeps it. Ignored once closed. */
  push(item: T): void {
    if (this.#closed) return;
    const puller = this.#pullers.shift();
    if (puller) puller.resolve({ value: item, done: false });
    else this.#items.push(item);
  }

  /** The next item; `done` once closed; throws the error once failed. */
  pull(): Promise<IteratorResult<T>> {
    if (this.#failed) return Promise.reject(this.#error);
    if (this.#closed) return Promise.resolve({ value: undefined, done: true });
    if (this.#head < this.#items.length) return Promise.resolve({ value: this.#shift(), done: false });
    return new Promise((resolve, reject) => this.#pullers.push({ resolve, reject }));
  }

  /**
   * The next item if one waits, without a promise; `undefined` when none
   * does (closing and failing discard the items, so also then).
   */
  take(): T | undefined {
    return this.#head < this.#items.length ? this.#shift() : undefined;
  }

  #shift(): T {
    const value = this.#items[this.#head] as T;
    this.#items[this.#head] = undefined as T;
    this.#head++;
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return value;
  }

  /** Ends every puller; discards the items left. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#items = [];
    this.#head = 0;
    for (const p of this.#pullers.splice(0)) p.resolve({ value: undefined, done: true });
  }

  /** Makes every current and later puller throw `error`. */
  fail(error: unknown): void {
    if (this.#closed) return;
    this.#failed = true;
    this.#error = error;
    this.#closed = true;
    this.#items = [];
    this.#head = 0;
    for (const p of this.#pullers.splice(0)) p.reject(error);
  }
}
