import type { Storage, StoredRecord } from "../storage/storage.js";
import { TailCache } from "./tail-cache.js";

/**
 * The runtime view of one partition's log: its bounds, the next offset to
 * assign, and a cache of its newest records. Offsets are assigned while a
 * storage batch is formed ({@link reserve}) and become visible to readers
 * only once the batch is durable ({@link commit}).
 */
export class PartitionLog {
  /** Offset of the oldest retained record. */
  start: bigint;
  /** One past the newest durable record: the high watermark. */
  end: bigint;
  /** The next offset to assign; above `end` while a write is in flight. */
  #next: bigint;
  /** Publish times never go backwards within a partition. */
  #lastPublishTime = 0;
  readonly #tail: TailCache;

  constructor(
    private readonly storage: Storage,
    readonly topicId: number,
    readonly partition: number,
    bounds: { start: bigint; end: bigint },
  ) {
    this.start = bounds.start;
    this.end = bounds.end;
    this.#next = bounds.end;
    this.#tail = new TailCache(4096, 1 << 20);
  }

  /**
   * Assigns the next offset; its publish time is then {@link lastPublishTime}
   * (read separately: no object per message).
   */
  reserve(now: number): bigint {
    if (now > this.#lastPublishTime) this.#lastPublishTime = now;
    return this.#next++;
  }

  /** The publish time of the offset reserved last: never below an earlier one. */
  get lastPublishTime(): number {
    return this.#lastPublishTime;
  }

  /** Seeds the publish-time floor after a restart. */
  set lastPublishTime(ms: number) {
    this.#lastPublishTime = ms;
  }

  /** Makes reserved records visible, in offset order. */
  commit(records: readonly StoredRecord[]): void {
    const last = records[records.length - 1];
    if (last === undefined) return;
    this.end = last.offset + 1n;
    this.#tail.push(records);
  }

  /** The next offset to assign: one past every record of this and earlier batches. */
  get next(): bigint {
    return this.#next;
  }

  /** Forgets reservations after a failed write, so offsets stay dense. */
  rollback(): void {
    this.#next = this.end;
  }

  /**
   * Reads records at offsets >= `from` (below `end`), from memory when they
   * are recent. Resolves to an empty array at the end of the log.
   */
  async read(from: bigint, maxRecords: number, maxBytes: number): Promise<StoredRecord[]> {
    if (from >= this.end) return [];
    if (from < this.start) from = this.start;
    const cached = this.#tail.read(from, maxRecords);
    if (cached !== undefined) return cached;
    const records = await this.storage.readRecords(this.topicId, this.partition, from, maxRecords, maxBytes);
    // A read racing a commit may see records past `end`; hide them until committed.
    let n = records.length;
    while (n > 0 && records[n - 1]!.offset >= this.end) n--;
    return n === records.length ? records : records.slice(0, n);
  }

  /** Synchronous read from the cache only; undefined when not cached. */
  readCached(from: bigint, maxRecords: number): StoredRecord[] | undefined {
    return this.#tail.read(from, maxRecords);
  }

  /** Values at the given offsets; undefined where the record is gone. */
  async get(offsets: readonly bigint[]): Promise<(Uint8Array | undefined)[]> {
    const out: (Uint8Array | undefined)[] = offsets.map((o) => this.#tail.get(o));
    const missing: number[] = [];
    for (let i = 0; i < out.length; i++) if (out[i] === undefined && offsets[i]! >= this.start) missing.push(i);
    if (missing.length === 0) return out;
    const values = await this.storage.getRecords(
      this.topicId,
      this.partition,
      missing.map((i) => offsets[i]!),
    );
    missing.forEach((i, k) => (out[i] = values[k]));
    return out;
  }
}
