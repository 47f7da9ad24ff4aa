/**
 * Where each partition's log may end on disk, so that appending at offsets
 * that were written before replaces those records (and only those), as
 * `WriteBatch.appendRecord` promises. With one record per key (v1) a put
 * replaced the record; a pack is keyed by its last offset, so packs holding
 * any of the same offsets are split around them in the same write.
 *
 * It happens after a write that failed but may still have reached the disk
 * (LevelDB can log a batch whose sync then fails): the broker rolls its
 * offsets back and appends at them again. Each partition is checked once
 * after open, and again only when a batch starts at or below the highest
 * offset an earlier write of this process attempted; a normal append starts
 * above it and costs nothing.
 */

import { logKey, logKeyOffset, PACKS, partitionLogRange } from "./level-keys.js";
import type { LevelDb } from "./level-write-batch.js";
import { PackReader, packOf } from "./record-pack.js";

/** The offsets one batch appends to one partition. */
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

/** The highest offset a write of this process attempted, per partition. */
export class LevelLogTails {
  readonly #attempted = new Map<string, bigint>();

  /**
   * The writes that take the stored records at each span's offsets out of
   * the way: packs holding any are deleted, and their records outside the
   * span put back as packs of their own. Notes the spans as attempted: call
   * it right before the batch's write, whose outcome does not matter here.
   */
  async clearing(db: LevelDb, spans: readonly AppendSpan[]): Promise<ClearingOp[]> {
    const ops: ClearingOp[] = [];
    for (const span of spans) {
      const id = `${span.topicId}/${span.partition}`;
      const attempted = this.#attempted.get(id);
      if (attempted === undefined || span.first <= attempted) await this.#clear(db, span, ops);
      if (attempted === undefined || span.last > attempted) this.#attempted.set(id, span.last);
    }
    return ops;
  }

  /** Forgets everything (the database was reopened, or another one opened). */
  reset(): void {
    this.#attempted.clear();
  }

  async #clear(db: LevelDb, { topicId, partition, first, last }: AppendSpan, ops: ClearingOp[]): Promise<void> {
    // The packs holding offsets in [first, last]: from the first whose last offset is >= first.
    const iterator = db.iterator({ ...partitionLogRange(PACKS, topicId, partition, first) });
    try {
      for (;;) {
        const entries = await iterator.nextv(4);
        if (entries.length === 0) return;
        for (const [key, value] of entries) {
          const end = logKeyOffset(key);
          const reader = new PackReader(value, `topic ${topicId} partition ${partition} offsets up to ${end}`);
          const start = end - BigInt(reader.count - 1);
          if (start > last) return;
          ops.push({ type: "del", key });
          const below = start < first ? Array.from({ length: Number(first - start) }, () => reader.next()) : [];
          if (below.length > 0) ops.push({ type: "put", key: logKey(PACKS, topicId, partition, first - 1n), value: packOf(below) });
          if (end > last) {
            reader.skip(Number(last - (start > first ? start : first)) + 1);
            const above = Array.from({ length: Number(end - last) }, () => reader.next());
            ops.push({ type: "put", key, value: packOf(above) });
          }
        }
      }
    } finally {
      await iterator.close();
    }
  }
}
