/**
 * {@link Storage} on LevelDB (classic-level), in one directory. See
 * `level-keys.ts` for the key layout.
 */

import { readSnapshotFile, writeSnapshotFile } from "./dedupe-snapshot-file.js";
import { LevelDbHandle } from "./level-db-handle.js";
import { toStorageError } from "./level-errors.js";
import { DEDUPE_SNAPSHOT_KEY } from "./level-keys.js";
import { LevelLogTails } from "./level-log-tails.js";
import { getLogRecords, readLogRecords, readPartitionBounds } from "./level-log-reads.js";
import { approximatePartitionBytes, deleteRecordRange, purgeDeletedTopics } from "./level-ranges.js";
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
  readonly #tails = new LevelLogTails();

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
    await this.#db.close();
    this.#tails.reset();
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
    const bounds = await this.#run(`reading bounds of topic ${topicId} partition ${partition}`, (db) =>
      readPartitionBounds(db, topicId, partition),
    );
    // Nothing is stored at or above the end: appends there need no clearing.
    if (bounds.end > 0n) this.#tails.found(topicId, partition, bounds.end - 1n);
    return bounds;
  }

  /** See {@link Storage.readRecords}: one iterator over the partition's packs (`level-log-reads.ts`). */
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
    return this.#run(`reading records of topic ${topicId} partition ${partition}`, (db) =>
      readLogRecords(db, topicId, partition, from, maxRecords, maxBytes),
    );
  }

  /** See {@link Storage.getRecords}: one iterator seeking the packs that hold them. */
  async getRecords(
    topicId: number,
    partition: number,
    offsets: readonly bigint[],
  ): Promise<(Uint8Array | undefined)[]> {
    assertU32("topicId", topicId);
    assertU32("partition", partition);
    for (const offset of offsets) assertU64("offset", offset);
    if (offsets.length === 0) {
      this.#db.require("reading records");
      return [];
    }
    return this.#run(`reading records of topic ${topicId} partition ${partition}`, (db) =>
      getLogRecords(db, topicId, partition, offsets),
    );
  }

  /**
   * Starts a batch. Never throws: when the storage is not open, the batch's
   * `write()` rejects with `unavailable`.
   */
  batch(): WriteBatch {
    return new LevelWriteBatch(
      (action) => this.#db.writable(action),
      (bytes) => writeSnapshotFile(this.#location, bytes),
      this.#tails,
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
      deleteRecordRange(db, topicId, partition, from, to, (fn) => this.#tails.exclusive(fn)),
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
