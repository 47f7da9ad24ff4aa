/**
 * Gathers items into batches bounded by count and bytes. An item counts as
 * one or as several (a part of a `sendBatch` holds several messages). A
 * batch is sealed (handed to `seal`) as soon as it reaches `maxItems` or
 * `maxBytes`, or when `flush()` is called (the publisher calls it when its
 * linger time is up). An item that would push a non-empty batch over
 * `maxItems` or `maxBytes` seals the batch first, so only an item larger
 * than a bound by itself makes a batch over it. Pure: no timers, no I/O.
 * @internal
 */
export class Batcher<T> {
  #items: T[] = [];
  #bytes = 0;
  #count = 0;

  /**
   * @param maxItems - the most items in a batch (at least 1)
   * @param maxBytes - the most bytes in a batch, unless one item is larger
   * @param seal - receives each sealed batch, its bytes and its count
   */
  constructor(
    private readonly maxItems: number,
    private readonly maxBytes: number,
    private readonly seal: (items: T[], bytes: number, count: number) => void,
  ) {}

  /** The count of the open batch (items, each counted as it was added). */
  get size(): number {
    return this.#count;
  }

  /**
   * Adds an item that counts as `count`. Returns `true` when it is the first
   * item of a batch that is still open afterwards: the moment to start the
   * linger timer.
   */
  add(item: T, bytes: number, count = 1): boolean {
    if (this.#count > 0 && (this.#bytes + bytes > this.maxBytes || this.#count + count > this.maxItems)) this.flush();
    this.#items.push(item);
    this.#bytes += bytes;
    this.#count += count;
    if (this.#count >= this.maxItems || this.#bytes >= this.maxBytes) {
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
    const count = this.#count;
    this.#items = [];
    this.#bytes = 0;
    this.#count = 0;
    this.seal(items, bytes, count);
  }

  /** Removes and returns the open batch's items without sealing them. */
  take(): T[] {
    const items = this.#items;
    this.#items = [];
    this.#bytes = 0;
    this.#count = 0;
    return items;
  }
}
