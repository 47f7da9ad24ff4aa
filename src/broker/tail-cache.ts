import type { StoredRecord } from "../storage/storage.js";

/**
 * The most recent records of one partition, kept so that consumers at the
 * head of the log are served from memory instead of LevelDB. Bounded by count
 * and bytes; the oldest records fall out first.
 */
export class TailCache {
  #records: StoredRecord[] = [];
  #head = 0;
  #bytes = 0;

  constructor(
    private readonly maxRecords: number,
    private readonly maxBytes: number,
  ) {}

  /** Appends records whose offsets continue the cached run. */
  push(records: readonly StoredRecord[]): void {
    const first = records[0];
    if (first === undefined) return;
    const last = this.#records[this.#records.length - 1];
    if (last !== undefined && last.offset + 1n !== first.offset) this.clear();
    for (const r of records) {
      this.#records.push(r);
      this.#bytes += r.value.byteLength;
    }
    while (
      this.#records.length - this.#head > 0 &&
      (this.#records.length - this.#head > this.maxRecords || this.#bytes > this.maxBytes)
    ) {
      this.#bytes -= this.#records[this.#head]!.value.byteLength;
      this.#head++;
    }
    // Compact now and then rather than shifting on every eviction.
    if (this.#head > 1024 && this.#head * 2 > this.#records.length) {
      this.#records = this.#records.slice(this.#head);
      this.#head = 0;
    }
  }

  /**
   * Records from `from` on (at most `maxRecords`), or undefined when `from`
   * is not in the cache (older, or nothing cached). An empty array means
   * `from` is just past the newest cached record.
   */
  read(from: bigint, maxRecords: number): StoredRecord[] | undefined {
    const first = this.#records[this.#head];
    if (first === undefined || from < first.offset) return undefined;
    const i = this.#head + Number(from - first.offset);
    if (i > this.#records.length) return undefined;
    return this.#records.slice(i, i + maxRecords);
  }

  /** The value at `offset`, if cached. */
  get(offset: bigint): Uint8Array | undefined {
    const first = this.#records[this.#head];
    if (first === undefined || offset < first.offset) return undefined;
    return this.#records[this.#head + Number(offset - first.offset)]?.value;
  }

  clear(): void {
    this.#records = [];
    this.#head = 0;
    this.#bytes = 0;
  }
}
