/**
 * {@link Storage} on LevelDB (classic-level), in one directory. See
 * `level-keys.ts` for the key layout.
 */

import { readSnapshotFile, writeSnapshotFile } from "./dedupe-snapshot-file.js";
import { LevelDbHandle } from "./level-db-handle.js";
import { toStorageError } from "./level-errors.js";
import { DEDUPE_SNAPSHOT_KEY, partitionRecordRange, recordKey, recordKeyOffset, RECORD_KEY_LENGTH } from "./level-keys.js";
import { approximatePartitionBytes, deleteRecordRange, purgeDeletedTopics, readEndFloor } from "./level-ranges.js";
import { LevelWriteBatch, decodeSnapshotLength, type LevelDb } from "./level-write-batch.js";
import { loadLevelState } from "./load-level-state.js";
import type { PartitionBounds, Storage, StoredRecord, StoredState, WriteBatch } from "./storage.js";
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
  /** The database, and writes held back after a failed one (see `level-db-handle.ts`). */
  readonly #db: LevelDbHandle;

  constructor(options: LevelStorageOptions) {
    this.#location = options.location;
    this.#logger = options.logger;
    this.#db = new LevelDbHandle(options.location, options.logger);
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
    return this.#db.open();
  }

  /** Closes the database. Idempotent; waits for an `open()` in progress. */
  async close(): Promise<void> {
    return this.#db.close();
  }

  /**
   * Loads all metadata and group states, topics and groups in id order.
   * Reads only the metadata and group state keyspaces, never the log. The
   * counters are 1 when never set, so that id 0 (the protobuf default) is
   * never used. Rejects with `corrupt` when a stored value cannot be decoded.
   */
  async load(): Promise<StoredState> {
    return loadLevelState(this.#db.require("loading state"), this.#logger);
  }

  /**
   * Seeks the first and last record of the partition, and reads its end
   * floor (see `deleteRecords`), on one snapshot.
   */
  async partitionBounds(topicId: number, partition: number): Promise<PartitionBounds> {
    assertU32("topicId", topicId);
    assertU32("partition", partition);
    const db = this.#db.require("reading partition bounds");
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
    const db = this.#db.require("reading records");
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
    const db = this.#db.require("reading records");
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
      (action) => this.#db.writable(action),
      (bytes) => writeSnapshotFile(this.#location, bytes),
      (err) => this.#db.writeFailed(err),
    );
  }

  /**
   * See {@link Storage.purgeDeleted}: {@link purgeDeletedTopics} (tombstoned
   * topics and earlier versions' dedupe keys). A crash part-way leaves the
   * tombstones, so the next call resumes.
   */
  async purgeDeleted(): Promise<void> {
    return this.#runWrite("purging deleted topics", (db) => purgeDeletedTopics(db, this.#logger));
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
    const db = this.#db.require(action);
    try {
      const length = await db.get(DEDUPE_SNAPSHOT_KEY);
      if (length !== undefined) yield* readSnapshotFile(this.#location, decodeSnapshotLength(length));
    } catch (err) {
      throw toStorageError(err, action);
    }
  }

  /** Runs `fn` on the open database, mapping its failures to {@link StorageError}. */
  async #run<T>(action: string, fn: (db: LevelDb) => Promise<T>): Promise<T> {
    const db = this.#db.require(action);
    try {
      return await fn(db);
    } catch (err) {
      throw toStorageError(err, action);
    }
  }

  /** Like {@link #run} for writes: after a failed write, reopens first. */
  async #runWrite<T>(action: string, fn: (db: LevelDb) => Promise<T>): Promise<T> {
    const db = await this.#db.writable(action);
    try {
      return await fn(db);
    } catch (err) {
      throw this.#db.writeFailed(toStorageError(err, action));
    }
  }
}
