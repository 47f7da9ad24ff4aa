/**
 * A bound on bytes in use with a FIFO of waiters: the publisher's bound on
 * unconfirmed bytes. `acquire` grants at once when the bytes fit and nobody
 * waits ahead; otherwise the item waits, in order, until `release` makes room.
 * An item larger than the whole bound is granted when nothing else is in use,
 * so it cannot wait forever.
 * @internal
 */
export class ByteBudget<T> {
  #used = 0;
  readonly #waiting: { item: T; bytes: number }[] = [];
  #head = 0;

  /**
   * @param limit - the most bytes in use at once
   * @param grant - called with each waiting item once its bytes are acquired
   */
  constructor(
    readonly limit: number,
    private readonly grant: (item: T) => void,
  ) {}

  /** Bytes in use. */
  get used(): number {
    return this.#used;
  }

  /** How many items wait. */
  get waiting(): number {
    return this.#waiting.length - this.#head;
  }

  /** Acquires `bytes` for `item`: `true` when granted now (`grant` is not called), `false` when it waits. */
  acquire(item: T, bytes: number): boolean {
    if (this.waiting === 0 && this.#fits(bytes)) {
      this.#used += bytes;
      return true;
    }
    this.#waiting.push({ item, bytes });
    return false;
  }

  /** Gives back `bytes` and grants waiting items, in order, while they fit. */
  release(bytes: number): void {
    this.#used = Math.max(0, this.#used - bytes);
    while (this.#head < this.#waiting.length) {
      const next = this.#waiting[this.#head] as { item: T; bytes: number };
      if (!this.#fits(next.bytes)) break;
      this.#waiting[this.#head] = undefined as never;
      this.#head++;
      this.#used += next.bytes;
      this.grant(next.item);
    }
    if (this.#head === this.#waiting.length) {
      this.#waiting.length = 0;
      this.#head = 0;
    }
  }

  /** Removes and returns every waiting item, in order, without granting them. */
  takeWaiting(): T[] {
    const items = this.#waiting.slice(this.#head).map((w) => w.item);
    this.#waiting.length = 0;
    this.#head = 0;
    return items;
  }

  #fits(bytes: number): boolean {
    return this.#used === 0 || this.#used + bytes <= this.limit;
  }
}
