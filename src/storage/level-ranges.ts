/**
 * Range operations of {@link LevelStorage} that run in the background:
 * deleting key ranges a chunk at a time, purging deleted topics, and
 * measuring a partition.
 */

import type { AbstractSnapshot } from "abstract-level";
import {
  LEGACY_DEDUPE_RANGE,
  LEGACY_DEDUPE_SNAPSHOT_RANGE,
  RECORD_KEY_LENGTH,
  decodeOffset,
  deletedTopicKey,
  encodeOffset,
  endFloorKey,
  keyHex,
  parseMetaKey,
  partitionRecordRange,
  recordKey,
  topicEndFloorRange,
  topicRecordRange,
} from "./level-keys.js";
import type { LevelDb } from "./level-write-batch.js";
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
  const iterator = db.keys({ ...range, highWaterMarkBytes: chunk * RECORD_KEY_LENGTH * 2 });
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
 * its records and end floors in steps of 10,000 keys
 * (DELETE_CHUNK_RECORDS), compacts the emptied record range (so that seeks
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
    const range = topicRecordRange(parsed.id);
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
 */
export async function deleteRecordRange(db: LevelDb, topicId: number, partition: number, from: bigint, to: bigint): Promise<void> {
  if (from >= to) return;
  const key = endFloorKey(topicId, partition);
  if ((await readEndFloor(db, topicId, partition)) < to) await db.put(key, encodeOffset(to));
  await purgeRange(db, { gte: recordKey(topicId, partition, from), lt: recordKey(topicId, partition, to) });
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
 * deleted records that compaction has not yet dropped out of the count.
 */
export function approximatePartitionBytes(db: LevelDb, topicId: number, partition: number, from: bigint): Promise<number> {
  const range = partitionRecordRange(topicId, partition, from);
  return db.approximateSize(range.gte, range.lte);
}
