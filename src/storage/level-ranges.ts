/**
 * Range operations of {@link LevelStorage} that run in the background:
 * deleting key ranges a chunk at a time, purging deleted topics, and
 * measuring a partition.
 */

import type { AbstractSnapshot } from "abstract-level";
import {
  LEGACY_DEDUPE_RANGE,
  LEGACY_DEDUPE_SNAPSHOT_RANGE,
  PACK_KEY_LENGTH,
  decodeOffset,
  deletedTopicKey,
  encodeOffset,
  endFloorKey,
  keyAfter,
  keyHex,
  packKey,
  parseMetaKey,
  partitionLogRange,
  recordKey,
  topicEndFloorRange,
  topicLogRange,
} from "./level-keys.js";
import { logEntry, type LogEntry } from "./level-log-entry.js";
import type { LevelDb } from "./level-write-batch.js";
import { packOf } from "./record-pack.js";
import { DELETE_CHUNK_RECORDS, StorageError } from "./storage.js";

/** A key range for an iterator or `clear()`: inclusive or exclusive upper end. */
export type ClearRange =
  | { readonly gte: Uint8Array; readonly lte: Uint8Array }
  | { readonly gte: Uint8Array; readonly lt: Uint8Array };

/**
 * Deletes every key of `range`, at most `chunk` keys per write. One iterator
 * walks the range while `clear()` deletes each chunk it found: asking "what
 * is left?" from the start of the range after each step would make LevelDB
 * skip over every deletion so far, which is quadratic. Each chunk is its own
 * write, awaited, so other writes interleave and the event loop stays free.
 *
 * The iterator reads a snapshot and never sees its own deletions; a key
 * written into the range meanwhile may survive, so callers use it only on
 * ranges nobody writes to (a deleted topic, a log's removed head, expired
 * dedupe entries).
 */
export async function purgeRange(db: LevelDb, range: ClearRange, chunk = DELETE_CHUNK_RECORDS): Promise<void> {
  const iterator = db.keys({ ...range, highWaterMarkBytes: chunk * PACK_KEY_LENGTH * 2 });
  try {
    for (;;) {
      const keys = await iterator.nextv(chunk);
      const first = keys[0];
      const last = keys[keys.length - 1];
      if (first === undefined || last === undefined) return;
      await db.clear({ gte: first, lte: last });
    }
  } finally {
    await iterator.close();
  }
}

/**
 * Deletes the per-message dedupe entries and the in-database dedupe
 * snapshot of earlier versions, then, for every tombstoned topic, deletes
 * its log entries and end floors in steps of 10,000 keys
 * (DELETE_CHUNK_RECORDS), compacts the emptied log range (so that seeks
 * near it do not skip over the deletions), then removes the tombstone. A
 * crash leaves the tombstone, so the next call resumes. A failed compaction
 * is only logged; other failures reject as LevelDB's errors.
 */
export async function purgeDeletedTopics(db: LevelDb, logger: { warn(obj: object, msg: string): void } | undefined): Promise<void> {
  await purgeRange(db, LEGACY_DEDUPE_RANGE);
  await purgeRange(db, LEGACY_DEDUPE_SNAPSHOT_RANGE);
  const tombstones = await db.keys({ gte: deletedTopicKey(0), lte: deletedTopicKey(0xffff_ffff) }).all();
  for (const tombstone of tombstones) {
    const parsed = parseMetaKey(tombstone);
    if (parsed?.kind !== "deleted-topic") continue;
    const range = topicLogRange(parsed.id);
    await purgeRange(db, range);
    await purgeRange(db, topicEndFloorRange(parsed.id));
    try {
      await db.compactRange(range.gte, range.lte);
    } catch (err) {
      // Only an optimisation: the records are gone either way.
      logger?.warn({ err, topicId: parsed.id }, "compacting a purged topic's range failed");
    }
    await db.del(tombstone);
  }
}

/**
 * Deletes a partition's records at offsets in [from, to), after raising the
 * partition's end floor to `to`: an emptied log must not restart at offset 0
 * after a restart. The floor goes first, so a crash part-way leaves records
 * above the old start and an end that is still right.
 *
 * Packs that straddle `from` or `to` are rewritten without the deleted
 * records, each in one atomic write (a pack's records never appear twice or
 * out of order); the packs wholly inside go in chunks, in offset order.
 */
export async function deleteRecordRange(
  db: LevelDb,
  topicId: number,
  partition: number,
  from: bigint,
  to: bigint,
  exclusive: <T>(fn: () => Promise<T>) => Promise<T>,
): Promise<void> {
  if (from >= to) return;
  const key = endFloorKey(topicId, partition);
  if ((await readEndFloor(db, topicId, partition)) < to) await db.put(key, encodeOffset(to));
  // Entries are read and written back under `exclusive`, so that a batch
  // replacing some of their records cannot work from them meanwhile (a
  // batch appending above what is stored takes no part in it, and goes on).
  await exclusive(async () => {
    const head = await entryAt(db, topicId, partition, from);
    if (head !== undefined && head.first < from) {
      // A pack from below `from`: its records below `from` stay, as a pack ending at from - 1.
      const all = Array.from({ length: head.reader.count }, () => head.reader.next());
      const batch = db.batch();
      batch.put(packKey(topicId, partition, from - 1n), packOf(all.slice(0, Number(from - head.first))));
      if (head.last >= to) {
        // The whole range lies inside this pack.
        batch.put(packKey(topicId, partition, head.last), packOf(all.slice(Number(to - head.first))));
        return batch.write();
      }
      batch.del(packKey(topicId, partition, head.last));
      await batch.write();
    }
    // The entries wholly inside next, lowest first, then a pack straddling `to`:
    // whatever a crash leaves of [from, to) is a contiguous run ending at `to`.
    // (`to`'s 17-byte key sorts below a pack ending at `to`.)
    await purgeRange(db, { gte: recordKey(topicId, partition, from), lt: recordKey(topicId, partition, to) });
    const tail = await entryAt(db, topicId, partition, to);
    if (tail !== undefined && tail.first < to) {
      // Its records from `to` on stay, under the same key.
      tail.reader.skip(Number(to - tail.first));
      const kept = Array.from({ length: Number(tail.last - to) + 1 }, () => tail.reader.next());
      await db.put(packKey(topicId, partition, tail.last), packOf(kept));
    }
  });
}

/** The log entry holding `offset` or, if none does, the first after it; `undefined` when there is none. */
async function entryAt(db: LevelDb, topicId: number, partition: number, offset: bigint): Promise<LogEntry | undefined> {
  const [entry] = await db.iterator({ ...partitionLogRange(topicId, partition, offset), limit: 1 }).all();
  return entry === undefined ? undefined : logEntry(entry[0], entry[1]);
}

/** The partition's end floor (0 when never set), read from `snapshot` when given. */
export async function readEndFloor(db: LevelDb, topicId: number, partition: number, snapshot?: AbstractSnapshot): Promise<bigint> {
  const key = endFloorKey(topicId, partition);
  const value = await db.get(key, snapshot === undefined ? {} : { snapshot });
  if (value === undefined) return 0n;
  const floor = decodeOffset(value);
  if (floor === undefined) throw new StorageError("corrupt", `malformed end floor ${keyHex(key)}`);
  return floor;
}

/**
 * LevelDB's estimate of the space the partition's records at offsets >=
 * `from` take in its files. Starting at the oldest retained offset keeps
 * deleted records that compaction has not yet dropped out of the count. The
 * pack holding `from` counts at its actual size and the estimate starts
 * after it: when retention cut it, LevelDB still holds its earlier version
 * under the same key until a compaction, and would count both.
 */
export async function approximatePartitionBytes(db: LevelDb, topicId: number, partition: number, from: bigint): Promise<number> {
  const range = partitionLogRange(topicId, partition, from);
  const [first] = await db.iterator({ ...range, limit: 1 }).all();
  if (first === undefined) return 0;
  const [key, value] = first;
  return value.byteLength + (await db.approximateSize(keyAfter(key), range.lte));
}
