/**
 * Gathers items into batches bounded by count and bytes. A batch is sealed
 * (handed to `seal`) as soon as it reaches `maxItems` or `maxBytes`, or when
 * `flush()` is called (the publisher calls it when its linger time is up).
 * An item that would push a non-empty batch over `maxBytes` seals the batch
 * first, so only an item larger than `maxBytes` by itself makes a batch over
 * the bound. Pure: no timers, no I/O.
 * @internal
 */
export class Batcher<T> {
  #items: T[] = [];
  #bytes = 0;

  /**
   * @param maxItems - the most items in a batch (at least 1)
   * @param maxBytes - the most bytes in a batch, unless one item is larger
   * @param seal - receives each sealed batch and its byte count
   */
  constructor(
    private readonly maxItems: number,
    private readonly maxBytes: number,
    private readonly seal: (items: T[], bytes: number) => void,
  ) {}

  /** Items in the open batch. */
  get size(): number {
    return this.#items.length;
  }

  /**
   * Adds an item. Returns `true` when it is the first item of a batch that
   * is still open afterwards: the moment to start the linger timer.
   */
  add(item: T, bytes: number): boolean {
    if (this.#items.length > 0 && this.#bytes + bytes > this.maxBytes) this.flush();
    this.#items.push(item);
    this.#bytes += bytes;
    if (this.#items.length >= this.maxItems || this.#bytes >= this.maxBytes) {
      this.flush();
      return false;
    }
    return this.#items.length === 1;
  }

  /** Seals the open batch, if it has any item. */
  flush(): void {
    if (this.#items.length === 0) return;
    const items = this.#items;
    const bytes = this.#bytes;
    this.#items = [];
    this.#bytes = 0;
    this.seal(items, bytes);
  }

  /** Removes and returns the open batch's items without sealing them. */
  take(): T[] {
    const items = this.#items;
    this.#items = [];
    this.#bytes = 0;
    return items;
  }
}
