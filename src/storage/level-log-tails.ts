/**
 * Where each partition's log may end on disk, so that appending at offsets
 * that were written before replaces those records (and only those), as
 * `WriteBatch.appendRecord` promises. With one record per key (v1) a put
 * replaced the record; a pack is keyed by its last offset, so packs holding
 * any of the same offsets are split around them in the same write.
 *
 * It happens after a write that failed but may still have reached the disk
 * (LevelDB can log a batch whose sync then fails): the broker rolls its
 * offsets back and appends at them again. A batch is checked when it starts
 * at or below the highest offset an earlier write of this process attempted
 * or the partition's bounds showed stored (or, for a partition it knows
 * nothing of, once); a normal append starts above it and costs nothing.
 */

import { packKey, partitionLogRange } from "./level-keys.js";
import { logEntry } from "./level-log-entry.js";
import { readLastOffset } from "./level-log-reads.js";
import type { LevelDb } from "./level-write-batch.js";
import { PACK_MAX_BYTES, PACK_MAX_RECORDS, packOf } from "./record-pack.js";

/** The offsets one pack of a batch appends to one partition. */
export interface AppendSpan {
  readonly topicId: number;
  readonly partition: number;
  readonly first: bigint;
  readonly last: bigint;
}

/** A write that clears the way for a batch, to go into it before its packs. */
export type ClearingOp =
  | { readonly type: "del"; readonly key: Uint8Array }
  | { readonly type: "put"; readonly key: Uint8Array; readonly value: Uint8Array };

/** A stored record in the way of a batch, which stays unless the batch covers its offset. */
interface StoredItem {
  readonly offset: bigint;
  readonly value: Uint8Array;
}

/**
 * The highest offset that may be stored, per partition: what a write of
 * this process attempted, or what was found stored.
 */
export class LevelLogTails {
  readonly #attempted = new Map<string, bigint>();
  /** The tail of the chain {@link exclusive} runs its functions on. */
  #queue: Promise<unknown> = Promise.resolve();

  /**
   * Runs `fn` once every function passed earlier has settled. Whatever reads
   * a stored pack and writes it back changed (a batch clearing the way,
   * retention cutting a pack) runs here, so that two of them never work
   * from the same pack.
   */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Writes a batch's packs through `write`, which gets the writes that take
   * the stored records at the spans' offsets out of the way, to go first in
   * the same LevelDB write (none for a batch that appends above everything
   * this process attempted, the broker's case). A batch that needs them is
   * written under {@link exclusive}. Notes the spans as attempted, whatever
   * the write's outcome.
   *
   * @param spans the batch's packs, grouped by partition, each partition's in offset order.
   */
  async write<T>(db: LevelDb, spans: readonly AppendSpan[], write: (clearing: ClearingOp[]) => Promise<T>): Promise<T> {
    const ids = spans.map((span) => `${span.topicId}/${span.partition}`);
    for (let i = 0; i < spans.length; i++) {
      const before = this.#attempted.get(ids[i]!);
      if (before === undefined || spans[i]!.first <= before) return this.exclusive(async () => write(await this.#clearing(db, spans)));
    }
    for (let i = 0; i < spans.length; i++) this.#attempted.set(ids[i]!, spans[i]!.last);
    return write([]);
  }

  /**
   * The writes that take the stored records at the spans' offsets out of
   * the way: every stored entry (pack, or v1 record) holding any of them is
   * deleted, and its records the batch does not cover are put back as packs.
   */
  async #clearing(db: LevelDb, spans: readonly AppendSpan[]): Promise<ClearingOp[]> {
    const ops: ClearingOp[] = [];
    for (let start = 0; start < spans.length; ) {
      const { topicId, partition } = spans[start]!;
      let end = start + 1;
      while (end < spans.length && spans[end]!.topicId === topicId && spans[end]!.partition === partition) end++;
      const mine = spans.slice(start, end);
      start = end;
      const id = `${topicId}/${partition}`;
      let before = this.#attempted.get(id);
      // The first time after open, what an earlier process stored counts as attempted.
      before ??= await readLastOffset(db, topicId, partition);
      if (before !== undefined && mine[0]!.first <= before) ops.push(...(await this.#clear(db, topicId, partition, mine)));
      const last = mine[mine.length - 1]!.last;
      this.#attempted.set(id, before !== undefined && before > last ? before : last);
    }
    return ops;
  }

  /** Notes that records up to `last` may be stored in the partition (its bounds were read). */
  found(topicId: number, partition: number, last: bigint): void {
    const id = `${topicId}/${partition}`;
    const before = this.#attempted.get(id);
    if (before === undefined || last > before) this.#attempted.set(id, last);
  }

  /** Forgets everything (the database was closed). */
  reset(): void {
    this.#attempted.clear();
  }

  async #clear(db: LevelDb, topicId: number, partition: number, spans: readonly AppendSpan[]): Promise<ClearingOp[]> {
    const first = spans[0]!.first;
    const last = spans[spans.length - 1]!.last;
    const ops: ClearingOp[] = [];
    const kept: StoredItem[] = [];
    // The entries holding offsets in [first, last]: from the first at or after `first`'s key.
    const iterator = db.iterator(partitionLogRange(topicId, partition, first));
    try {
      scan: for (;;) {
        const entries = await iterator.nextv(4);
        if (entries.length === 0) break;
        for (const [key, value] of entries) {
          const entry = logEntry(key, value);
          if (entry.first > last) break scan;
          ops.push({ type: "del", key });
          for (let o = entry.first; o <= entry.last; o++) {
            const record = entry.reader.next();
            if (!spans.some((s) => s.first <= o && o <= s.last)) kept.push({ offset: o, value: record });
          }
        }
      }
    } finally {
      await iterator.close();
    }
    // Entries come in offset order, so `kept` is too. Runs of consecutive offsets, each a pack under its last offset (never a key the batch writes: those are covered).
    for (let i = 0; i < kept.length; ) {
      let bytes = kept[i]!.value.byteLength;
      let j = i + 1;
      for (; j < kept.length && j - i < PACK_MAX_RECORDS && kept[j]!.offset === kept[j - 1]!.offset + 1n; j++) {
        bytes += kept[j]!.value.byteLength;
        if (bytes > PACK_MAX_BYTES) break;
      }
      const run = kept.slice(i, j);
      ops.push({ type: "put", key: packKey(topicId, partition, run[run.length - 1]!.offset), value: packOf(run.map((r) => r.value)) });
      i = j;
    }
    return ops;
  }
}
