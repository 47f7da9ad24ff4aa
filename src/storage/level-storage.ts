/**
 * {@link Storage} on LevelDB (classic-level), in one directory. See
 * `level-keys.ts` for the key layout.
 */

import { decodeGroupPartitionState } from "./group-state-codec.js";
import { toStorageError } from "./level-errors.js";
import {
  GROUP_STATE_RANGE,
  META_RANGE,
  deletedTopicKey,
  keyHex,
  type KeyRange,
  parseGroupStateKey,
  parseMetaKey,
  partitionRecordRange,
  recordKey,
  recordKeyOffset,
  RECORD_KEY_LENGTH,
  topicRecordRange,
} from "./level-keys.js";
import { openLevelDb } from "./level-open.js";
import { LevelWriteBatch, type LevelDb } from "./level-write-batch.js";
import { decodeGroupMeta, decodeNextIds, decodeTopicMeta } from "./meta-codec.js";
import {
  StorageError,
  type GroupMeta,
  type GroupPartitionState,
  type PartitionBounds,
  type Storage,
  type StoredRecord,
  type StoredState,
  type TopicMeta,
  type WriteBatch,
} from "./storage.js";
import { assertReadLimits, assertU32, assertU64 } from "./validate.js";

export { LEVEL_STORAGE_FORMAT } from "./level-open.js";

/** Options of {@link LevelStorage}. */
export interface LevelStorageOptions {
  /** The data directory; created when missing. */
  readonly location: string;
  /** Receives warnings about things storage recovered from on its own. */
  readonly logger?: { warn(obj: object, msg: string): void };
}

/** Records deleted per step of {@link LevelStorage.purgeDeleted}. */
const PURGE_CHUNK = 10_000;
/**
 * Cap on the entries one `nextv` call asks for: LevelDB reserves room for
 * that many up front, so an unbounded `maxRecords` must not reach it.
 */
const NEXTV_MAX_ENTRIES = 1000;
/** Cap on the bytes one `nextv` call may buffer natively (it is a u32 there). */
const MAX_READ_AHEAD_BYTES = 64 * 1024 * 1024;

/**
 * {@link Storage} on LevelDB. Every method except `open()` and `close()`
 * rejects with {@link StorageError} `unavailable` while the storage is not
 * open. Invalid ids, offsets or limits are bugs in the caller and throw
 * `RangeError` (synchronously from batch builders, as a rejection elsewhere).
 * The storage can be opened again after `close()`.
 */
export class LevelStorage implements Storage {
  readonly #location: string;
  readonly #logger: LevelStorageOptions["logger"];
  #db: LevelDb | undefined;
  #opening: Promise<void> | undefined;

  constructor(options: LevelStorageOptions) {
    this.#location = options.location;
    this.#logger = options.logger;
  }

  /**
   * Opens the data directory, creating it (and the database, with its format
   * marker) when it is missing or empty. Resolves at once when already open.
   * Rejects with `foreign` when the directory holds something other than a
   * Sluice database (other files, or a LevelDB database without the marker or
   * with another format), `corrupt` when LevelDB finds damage, `unavailable`
   * when another process holds the directory, `io` otherwise.
   */
  async open(): Promise<void> {
    if (this.#db !== undefined) return;
    this.#opening ??= openLevelDb(this.#location, this.#logger)
      .then((db) => {
        this.#db = db;
      })
      .finally(() => {
        this.#opening = undefined;
      });
    return this.#opening;
  }

  /** Closes the database. Idempotent; waits for an `open()` in progress. */
  async close(): Promise<void> {
    await this.#opening?.catch(() => undefined);
    const db = this.#db;
    this.#db = undefined;
    if (db === undefined) return;
    try {
      await db.close();
    } catch (err) {
      throw toStorageError(err, `closing data directory ${this.#location}`);
    }
  }

  /**
   * Loads all metadata and group states, topics and groups in id order.
   * Reads only the metadata and group state keyspaces, never the log. The
   * counters are 1 when never set, so that id 0 (the protobuf default) is
   * never used. Rejects with `corrupt` when a stored value cannot be decoded.
   */
  async load(): Promise<StoredState> {
    const db = this.#requireDb("loading state");
    let meta: [Uint8Array, Uint8Array][];
    let states: [Uint8Array, Uint8Array][];
    try {
      [meta, states] = await Promise.all([db.iterator(META_RANGE).all(), db.iterator(GROUP_STATE_RANGE).all()]);
    } catch (err) {
      throw toStorageError(err, "loading state");
    }
    const topics: TopicMeta[] = [];
    const groups: GroupMeta[] = [];
    let nextIds = { nextTopicId: 1, nextGroupId: 1 };
    for (const [key, value] of meta) {
      const parsed = parseMetaKey(key);
      switch (parsed?.kind) {
        case "topic":
          topics.push(decodeTopicMeta(value));
          break;
        case "group":
          groups.push(decodeGroupMeta(value));
          break;
        case "next-ids":
          nextIds = decodeNextIds(value);
          break;
        case "format":
        case "deleted-topic":
          break;
        case undefined:
          // Only a newer version would write one, and it would change the marker.
          this.#logger?.warn({ key: keyHex(key) }, "ignoring an unknown metadata key");
      }
    }
    const groupPartitions = new Map<string, GroupPartitionState>();
    for (const [key, value] of states) {
      const parsed = parseGroupStateKey(key);
      if (parsed === undefined) throw new StorageError("corrupt", `malformed group state key ${keyHex(key)}`);
      groupPartitions.set(`${parsed.groupId}/${parsed.partition}`, decodeGroupPartitionState(value));
    }
    return { topics, groups, groupPartitions, ...nextIds };
  }

  /** Seeks the first and last record of the partition, on one snapshot. */
  async partitionBounds(topicId: number, partition: number): Promise<PartitionBounds> {
    assertU32("topicId", topicId);
    assertU32("partition", partition);
    const db = this.#requireDb("reading partition bounds");
    const range = partitionRecordRange(topicId, partition);
    let first: Uint8Array[];
    let last: Uint8Array[];
    try {
      // One snapshot, so a concurrent write cannot give a first key without a last.
      const snapshot = db.snapshot();
      try {
        [first, last] = await Promise.all([
          db.keys({ ...range, limit: 1, snapshot }).all(),
          db.keys({ ...range, limit: 1, reverse: true, snapshot }).all(),
        ]);
      } finally {
        await snapshot.close();
      }
    } catch (err) {
      throw toStorageError(err, `reading bounds of topic ${topicId} partition ${partition}`);
    }
    const [firstKey] = first;
    const [lastKey] = last;
    if (firstKey === undefined || lastKey === undefined) return { start: 0n, end: 0n };
    return { start: recordKeyOffset(firstKey), end: recordKeyOffset(lastKey) + 1n };
  }

  /** See {@link Storage.readRecords}. Uses one iterator, read with `nextv`. */
  async readRecords(
    topicId: number,
    partition: number,
    from: bigint,
    maxRecords: number,
    maxBytes: number,
  ): Promise<StoredRecord[]> {
    assertU32("topicId", topicId);
    assertU32("partition", partition);
    assertU64("from", from);
    assertReadLimits(maxRecords, maxBytes);
    const db = this.#requireDb("reading records");
    const records: StoredRecord[] = [];
    try {
      const iterator = db.iterator({
        ...partitionRecordRange(topicId, partition, from),
        limit: Math.min(maxRecords, 0x7fff_ffff),
        // LevelDB counts keys too; enough read-ahead to fill the answer in one
        // call instead of the default 16 KiB per call.
        highWaterMarkBytes: Math.min(maxBytes + RECORD_KEY_LENGTH * maxRecords, MAX_READ_AHEAD_BYTES),
      });
      try {
        let bytes = 0;
        fill: while (records.length < maxRecords) {
          const entries = await iterator.nextv(Math.min(maxRecords - records.length, NEXTV_MAX_ENTRIES));
          if (entries.length === 0) break;
          for (const [key, value] of entries) {
            bytes += value.byteLength;
            if (bytes > maxBytes && records.length > 0) break fill;
            records.push({ offset: recordKeyOffset(key), value });
          }
          if (bytes >= maxBytes) break;
        }
      } finally {
        await iterator.close();
      }
    } catch (err) {
      throw toStorageError(err, `reading records of topic ${topicId} partition ${partition}`);
    }
    return records;
  }

  /** See {@link Storage.getRecords}; one `getMany` call. */
  async getRecords(
    topicId: number,
    partition: number,
    offsets: readonly bigint[],
  ): Promise<(Uint8Array | undefined)[]> {
    assertU32("topicId", topicId);
    assertU32("partition", partition);
    const keys = offsets.map((offset) => {
      assertU64("offset", offset);
      return recordKey(topicId, partition, offset);
    });
    const db = this.#requireDb("reading records");
    if (keys.length === 0) return [];
    try {
      return await db.getMany(keys);
    } catch (err) {
      throw toStorageError(err, `reading records of topic ${topicId} partition ${partition}`);
    }
  }

  /**
   * Starts a batch. Never throws: when the storage is not open, the batch's
   * `write()` rejects with `unavailable`.
   */
  batch(): WriteBatch {
    return new LevelWriteBatch((action) => this.#requireDb(action));
  }

  /**
   * For every tombstoned topic, deletes its records in steps of
   * {@link PURGE_CHUNK}, compacts the emptied range (so that seeks near it do
   * not skip over the deletions), then removes the tombstone. A crash leaves
   * the tombstone, so the next call resumes.
   */
  async purgeDeleted(): Promise<void> {
    const db = this.#requireDb("purging deleted topics");
    try {
      const tombstones = await db.keys({ gte: deletedTopicKey(0), lte: deletedTopicKey(0xffff_ffff) }).all();
      for (const tombstone of tombstones) {
        const parsed = parseMetaKey(tombstone);
        if (parsed?.kind !== "deleted-topic") continue;
        const range = topicRecordRange(parsed.id);
        await purgeRange(db, range);
        await this.#compact(db, range.gte, range.lte, parsed.id);
        await db.del(tombstone);
      }
    } catch (err) {
      throw toStorageError(err, "purging deleted topics");
    }
  }

  async #compact(db: LevelDb, start: Uint8Array, end: Uint8Array, topicId: number): Promise<void> {
    try {
      await db.compactRange(start, end);
    } catch (err) {
      // Only an optimisation: the records are gone either way.
      this.#logger?.warn({ err, topicId }, "compacting a purged topic's range failed");
    }
  }

  #requireDb(action: string): LevelDb {
    if (this.#db === undefined) throw new StorageError("unavailable", `storage is not open (${action})`);
    return this.#db;
  }
}

/**
 * Deletes every key of `range`, one chunk per step. One iterator walks the
 * range while `clear()` deletes each chunk it found: asking "what is left?"
 * from the start of the range after each step would make LevelDB skip over
 * every deletion so far, which is quadratic.
 */
async function purgeRange(db: LevelDb, range: KeyRange): Promise<void> {
  // The iterator reads a snapshot, so it never sees its own deletions; no
  // new records arrive, because topic ids are never reused.
  const iterator = db.keys({ ...range, highWaterMarkBytes: PURGE_CHUNK * RECORD_KEY_LENGTH * 2 });
  try {
    for (;;) {
      const keys = await iterator.nextv(PURGE_CHUNK);
      const first = keys[0];
      const last = keys[keys.length - 1];
      if (first === undefined || last === undefined) return;
      await db.clear({ gte: first, lte: last });
    }
  } finally {
    await iterator.close();
  }
}
