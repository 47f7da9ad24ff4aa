/**
 * {@link Storage} on LevelDB (classic-level), in one directory. See
 * `level-keys.ts` for the key layout.
 */

import { decodeGroupPartitionState } from "./group-state-codec.js";
import { toStorageError } from "./level-errors.js";
import {
  GROUP_STATE_RANGE,
  META_RANGE,
  DEDUPE_SNAPSHOT_KEY,
  LEGACY_DEDUPE_RANGE,
  LEGACY_DEDUPE_SNAPSHOT_RANGE,
  deletedTopicKey,
  keyHex,
  parseGroupStateKey,
  parseMetaKey,
  partitionRecordRange,
  recordKey,
  recordKeyOffset,
  RECORD_KEY_LENGTH,
  topicEndFloorRange,
  topicRecordRange,
  UNUSED_KEY,
} from "./level-keys.js";
import { readSnapshotFile, writeSnapshotFile } from "./dedupe-snapshot-file.js";
import { openLevelDb } from "./level-open.js";
import { reopenRoom } from "./level-reopen.js";
import { approximatePartitionBytes, deleteRecordRange, purgeRange, readEndFloor } from "./level-ranges.js";
import { LevelWriteBatch, decodeSnapshotLength, type LevelDb } from "./level-write-batch.js";
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
  /**
   * The first failed write since the database was opened. LevelDB's log may
   * now end in a torn record that would hide every later write from crash
   * recovery, so nothing is written until the database is reopened (see
   * `level-reopen.ts`).
   */
  #torn: StorageError | undefined;
  #reopening: Promise<void> | undefined;

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
    await this.#reopening?.catch(() => undefined);
    const db = this.#db;
    this.#db = undefined;
    if (db === undefined) return;
    try {
      // Flush the memtable, so that the next open does not replay the
      // write-ahead log (up to the write buffer plus one batch of several MB
      // under load): replaying 36 MB left ~38 MB resident in the next process
      // (measured). Only an optimisation: a failure here shows again in
      // close() or the next open.
      await db.compactRange(UNUSED_KEY, UNUSED_KEY).catch(() => undefined);
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
        case "dedupe-snapshot":
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

  /**
   * Seeks the first and last record of the partition, and reads its end
   * floor (see `deleteRecords`), on one snapshot.
   */
  async partitionBounds(topicId: number, partition: number): Promise<PartitionBounds> {
    assertU32("topicId", topicId);
    assertU32("partition", partition);
    const db = this.#requireDb("reading partition bounds");
    const range = partitionRecordRange(topicId, partition);
    let first: Uint8Array[];
    let last: Uint8Array[];
    let floor: bigint;
    try {
      // One snapshot, so a concurrent write cannot give a first key without a last.
      const snapshot = db.snapshot();
      try {
        [first, last, floor] = await Promise.all([
          db.keys({ ...range, limit: 1, snapshot }).all(),
          db.keys({ ...range, limit: 1, reverse: true, snapshot }).all(),
          readEndFloor(db, topicId, partition, snapshot),
        ]);
      } finally {
        await snapshot.close();
      }
    } catch (err) {
      throw toStorageError(err, `reading bounds of topic ${topicId} partition ${partition}`);
    }
    const [firstKey] = first;
    const [lastKey] = last;
    if (firstKey === undefined || lastKey === undefined) return { start: floor, end: floor };
    const end = recordKeyOffset(lastKey) + 1n;
    return { start: recordKeyOffset(firstKey), end: end > floor ? end : floor };
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
    return new LevelWriteBatch(
      (action) => this.#writableDb(action),
      (bytes) => writeSnapshotFile(this.#location, bytes),
      (err) => this.#writeFailed(err),
    );
  }

  /**
   * Deletes the per-message dedupe entries and the in-database dedupe
   * snapshot of earlier versions, then, for every tombstoned topic, deletes
   * its records and end floors in steps of 10,000 keys
   * (DELETE_CHUNK_RECORDS), compacts the emptied record range (so that seeks
   * near it do not skip over the deletions), then removes the tombstone. A crash leaves the tombstone, so
   * the next call resumes.
   */
  async purgeDeleted(): Promise<void> {
    const db = await this.#writableDb("purging deleted topics");
    try {
      await purgeRange(db, LEGACY_DEDUPE_RANGE);
      await purgeRange(db, LEGACY_DEDUPE_SNAPSHOT_RANGE);
      const tombstones = await db.keys({ gte: deletedTopicKey(0), lte: deletedTopicKey(0xffff_ffff) }).all();
      for (const tombstone of tombstones) {
        const parsed = parseMetaKey(tombstone);
        if (parsed?.kind !== "deleted-topic") continue;
        const range = topicRecordRange(parsed.id);
        await purgeRange(db, range);
        await purgeRange(db, topicEndFloorRange(parsed.id));
        await this.#compact(db, range.gte, range.lte, parsed.id);
        await db.del(tombstone);
      }
    } catch (err) {
      throw this.#writeFailed(toStorageError(err, "purging deleted topics"));
    }
  }

  /** See {@link Storage.deleteRecords}: one `clear()` per chunk of existing keys. */
  async deleteRecords(topicId: number, partition: number, from: bigint, to: bigint): Promise<void> {
    assertU32("topicId", topicId);
    assertU32("partition", partition);
    assertU64("from", from);
    assertU64("to", to);
    return this.#runWrite(`deleting records of topic ${topicId} partition ${partition}`, (db) =>
      deleteRecordRange(db, topicId, partition, from, to),
    );
  }

  /** See {@link Storage.partitionBytes}: LevelDB's `approximateSize`. */
  async partitionBytes(topicId: number, partition: number, from = 0n): Promise<number> {
    assertU32("topicId", topicId);
    assertU32("partition", partition);
    assertU64("from", from);
    return this.#run(`measuring topic ${topicId} partition ${partition}`, (db) =>
      approximatePartitionBytes(db, topicId, partition, from),
    );
  }

  /** See {@link Storage.readDedupeSnapshot}: the file of the length the database knows, in pieces of up to 1 MiB. */
  async *readDedupeSnapshot(): AsyncGenerator<Uint8Array> {
    const action = "reading the dedupe snapshot";
    const db = this.#requireDb(action);
    try {
      const length = await db.get(DEDUPE_SNAPSHOT_KEY);
      if (length !== undefined) yield* readSnapshotFile(this.#location, decodeSnapshotLength(length));
    } catch (err) {
      throw toStorageError(err, action);
    }
  }

  /** Runs `fn` on the open database, mapping its failures to {@link StorageError}. */
  async #run<T>(action: string, fn: (db: LevelDb) => Promise<T>): Promise<T> {
    const db = this.#requireDb(action);
    try {
      return await fn(db);
    } catch (err) {
      throw toStorageError(err, action);
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

  /** Like {@link #run} for writes: after a failed write, reopens first. */
  async #runWrite<T>(action: string, fn: (db: LevelDb) => Promise<T>): Promise<T> {
    const db = await this.#writableDb(action);
    try {
      return await fn(db);
    } catch (err) {
      throw this.#writeFailed(toStorageError(err, action));
    }
  }

  /** The database to write to: after a failed write, only once it was reopened. */
  async #writableDb(action: string): Promise<LevelDb> {
    if (this.#torn !== undefined) {
      this.#reopening ??= this.#reopen(action).finally(() => (this.#reopening = undefined));
      await this.#reopening;
    }
    return this.#requireDb(action);
  }

  /** Records a failed write (see {@link #torn}); returns the error for throwing. */
  #writeFailed(err: StorageError): StorageError {
    if ((err.code === "full" || err.code === "io") && this.#torn === undefined && this.#db !== undefined) {
      this.#torn = err;
      this.#logger?.warn({ err, location: this.#location }, "a write failed; writing resumes once the data directory is reopened");
    }
    return err;
  }

  /**
   * Closes and opens the database, which starts a new LevelDB log, once the
   * disk has room for it. Until then rejects with `full`. Reads in progress
   * fail with `unavailable` while it reopens.
   */
  async #reopen(action: string): Promise<void> {
    const torn = this.#torn!;
    const { free, needed } = await reopenRoom(this.#location).catch(() => ({ free: 0, needed: 1 }));
    if (free < needed) {
      throw new StorageError(
        torn.code === "full" ? "full" : "io",
        `${action}: writing is suspended after a failed write (${torn.message}) until ${needed} bytes are free; ${free} are`,
        { cause: torn },
      );
    }
    const db = this.#db;
    this.#db = undefined;
    await db?.close().catch(() => undefined);
    this.#db = await openLevelDb(this.#location, this.#logger);
    this.#torn = undefined;
    this.#logger?.warn({ location: this.#location }, "reopened the data directory after a failed write; writing again");
  }

  #requireDb(action: string): LevelDb {
    if (this.#db === undefined) {
      // A reopen that failed (no room yet) left the database closed: try again.
      if (this.#torn !== undefined && this.#reopening === undefined) {
        this.#reopening = this.#reopen(action)
          .catch(() => undefined)
          .finally(() => (this.#reopening = undefined));
      }
      throw new StorageError("unavailable", `storage is not open (${action})`);
    }
    return this.#db;
  }
}
