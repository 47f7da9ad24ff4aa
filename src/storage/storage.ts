/**
 * The narrow storage contract the broker core depends on.
 *
 * The core never sees keys or encodings: it speaks of topics, partitions,
 * records and group state by numeric ids. Every implementation runs the
 * conformance suite in `test/storage/storage-contract.ts`.
 */

/** A topic's metadata, as the broker persists it. Ids are never reused. */
export interface TopicMeta {
  readonly id: number;
  readonly name: string;
  readonly partitions: number;
  /** Retention: maximum age in milliseconds (0 = default). */
  readonly retentionMaxAgeMs: number;
  /** Retention: maximum bytes per partition (0 = unlimited). */
  readonly retentionMaxBytes: bigint;
  /** How long publishes are deduplicated by message id (0 = off). */
  readonly dedupeWindowMs: number;
  /** Milliseconds since the epoch. */
  readonly createdAt: number;
}

/** A consumer group's metadata. Ids are never reused. */
export interface GroupMeta {
  readonly id: number;
  readonly topicId: number;
  readonly name: string;
  readonly ackDeadlineMs: number;
  /** Key-ordered delivery. */
  readonly ordered: boolean;
  readonly retryBackoffMinMs: number;
  readonly retryBackoffMaxMs: number;
  /** 0 = unlimited. */
  readonly maxDeliveries: number;
  /** "" = none. */
  readonly deadLetterTopic: string;
  /** Milliseconds since the epoch. */
  readonly createdAt: number;
}

/**
 * A group's durable acknowledgement state in one partition: everything below
 * `committed` is acknowledged, and so is every half-open range [start, end)
 * in `acked` (sorted, disjoint, non-adjacent, all above `committed`).
 */
export interface GroupPartitionState {
  readonly committed: bigint;
  readonly acked: ReadonlyArray<readonly [bigint, bigint]>;
  /**
   * Delivery counts of delivered, unacknowledged messages, kept only for
   * groups with a delivery limit, as [offset, attempts] sorted by offset.
   */
  readonly attempts?: ReadonlyArray<readonly [bigint, number]>;
  /** Messages dead-lettered to another topic. */
  readonly deadLettered?: bigint;
  /** Messages dropped after their delivery limit (no dead-letter topic). */
  readonly dropped?: bigint;
  /** Messages removed by retention before the group acknowledged them. */
  readonly skipped?: bigint;
}

/** One stored record of a partition's log. */
export interface StoredRecord {
  readonly offset: bigint;
  /** The record as the broker's codec encoded it; opaque to storage. */
  readonly value: Uint8Array;
}

/** A partition's bounds: records exist at offsets [start, end). */
export interface PartitionBounds {
  readonly start: bigint;
  readonly end: bigint;
}

/** Everything the broker loads at start, without reading any log. */
export interface StoredState {
  /** In id order. */
  readonly topics: TopicMeta[];
  /** In id order. */
  readonly groups: GroupMeta[];
  /** Keyed by `${groupId}/${partition}`. */
  readonly groupPartitions: Map<string, GroupPartitionState>;
  /**
   * Counters for the next topic and group ids, as last set with
   * {@link WriteBatch.setNextIds}; 1 when never set, so that id 0 (the
   * protobuf default) is never handed out.
   */
  readonly nextTopicId: number;
  readonly nextGroupId: number;
}

/**
 * A set of writes applied atomically by {@link WriteBatch.write}. Builder
 * methods return the batch for chaining. A batch is written at most once.
 *
 * Builders check their arguments and throw `RangeError` for ids that are not
 * u32, offsets that are not u64, metadata that could not be loaded back, or
 * group state that breaks the {@link GroupPartitionState} invariants; they
 * throw `Error` once the batch was written. Those are bugs in the caller,
 * never {@link StorageError}s. Record values are held by reference until
 * `write()` resolves, and copied on the way: do not mutate a value before that.
 * Operations apply in the order they were added (a later put of the same
 * key wins).
 */
export interface WriteBatch {
  appendRecord(topicId: number, partition: number, offset: bigint, value: Uint8Array): this;
  putTopic(meta: TopicMeta): this;
  /**
   * Removes the topic's metadata and marks its records for
   * {@link Storage.purgeDeleted}. Its groups are not touched: delete them in
   * the same batch.
   */
  deleteTopic(topicId: number): this;
  putGroup(meta: GroupMeta): this;
  /** Removes the group's metadata and all its partition states. */
  deleteGroup(groupId: number, partitions: number): this;
  putGroupPartition(groupId: number, partition: number, state: GroupPartitionState): this;
  setNextIds(nextTopicId: number, nextGroupId: number): this;
  /**
   * Replaces the saved dedupe index (opaque bytes the broker encodes; any
   * length, empty included) with `snapshot`, one per storage. The rest of the
   * batch and every earlier write are durable before it is, since it claims
   * to cover them; a failed write leaves the last snapshot or this one, never
   * a mix.
   */
  putDedupeSnapshot(snapshot: Uint8Array): this;
  /** How many builder calls the batch holds (each counts one, whatever it writes). */
  readonly length: number;
  /**
   * Applies every operation atomically. With `sync`, the write is flushed to
   * stable storage before the promise resolves. Rejects with
   * {@link StorageError} when the write fails; then nothing was applied.
   */
  write(options: { sync: boolean }): Promise<void>;
}

/**
 * The broker's storage. Methods reject with {@link StorageError} (code
 * `unavailable` while the storage is not open) and, for arguments that break
 * the documented ranges, with `RangeError`.
 */
export interface Storage {
  /**
   * Opens the storage, creating it when the location is empty. Refuses (with
   * code `corrupt` or `foreign`) a location that holds something else.
   */
  open(): Promise<void>;
  /** Flushes and closes. Idempotent. */
  close(): Promise<void>;
  /** Loads all metadata and group state. Cost is independent of log length. */
  load(): Promise<StoredState>;
  /**
   * The bounds of a partition's log; `{start: 0n, end: 0n}` when it never
   * held a record. The end is never below the `to` of a {@link deleteRecords}
   * (so a log emptied by it keeps its offsets: `{start: to, end: to}`).
   * Found by seeking, not scanning.
   */
  partitionBounds(topicId: number, partition: number): Promise<PartitionBounds>;
  /**
   * Reads records at offsets >= `from` in offset order, stopping after
   * `maxRecords` records or before the values would add up to more than
   * `maxBytes` (at least one record is returned when any exists, even if it
   * alone is larger). An empty array means none exist. `maxRecords` must be a
   * positive integer and `maxBytes` at least 1 (`Infinity` is allowed).
   */
  readRecords(
    topicId: number,
    partition: number,
    from: bigint,
    maxRecords: number,
    maxBytes: number,
  ): Promise<StoredRecord[]>;
  /**
   * Reads the values at the given offsets, in the order given (duplicates
   * allowed); `undefined` where none exists.
   */
  getRecords(topicId: number, partition: number, offsets: readonly bigint[]): Promise<(Uint8Array | undefined)[]>;
  /**
   * Starts a batch of writes. Never throws: on storage that is not open, the
   * batch's `write()` rejects with `unavailable`.
   */
  batch(): WriteBatch;
  /**
   * Removes the records of deleted topics (marked by {@link WriteBatch.deleteTopic}),
   * in chunks, so it can run in the background. Safe to call again after a crash.
   */
  purgeDeleted(): Promise<void>;
  /**
   * Removes a partition's records at offsets in [from, to), lowest first, in
   * steps of at most {@link DELETE_CHUNK_RECORDS} stored entries (records,
   * or packs of them) per storage write, so that writes of publishes
   * interleave with it. Offsets without a record are
   * skipped; `from >= to` removes nothing. Afterwards {@link partitionBounds}
   * reports an end of at least `to`, even when no record is left, so that
   * offsets are never handed out twice.
   */
  deleteRecords(topicId: number, partition: number, from: bigint, to: bigint): Promise<void>;
  /**
   * Approximate bytes the partition's records at offsets >= `from` take up
   * (default: all of them); 0 when there are none. LevelDB measures space in
   * its files, compressed, and may leave out the most recent writes.
   */
  partitionBytes(topicId: number, partition: number, from?: bigint): Promise<number>;
  /**
   * The bytes of the last dedupe snapshot written
   * ({@link WriteBatch.putDedupeSnapshot}), in order, in pieces of any size
   * (an empty snapshot is one empty piece); nothing when none was written.
   * A piece is valid only until the next is asked for. Rejects with `corrupt`
   * when part of it is missing, `unavailable` when closed.
   */
  readDedupeSnapshot(): AsyncIterable<Uint8Array>;
}

/** The most stored entries (records, or packs of them) {@link Storage.deleteRecords} removes per storage write. */
export const DELETE_CHUNK_RECORDS = 10_000;

/** Why a storage operation failed. */
export type StorageErrorCode =
  /** The disk is full or a quota was hit. */
  | "full"
  /** The storage is closed or otherwise unusable right now. */
  | "unavailable"
  /** The data directory is damaged. */
  | "corrupt"
  /** The data directory belongs to something else. */
  | "foreign"
  /** Any other I/O failure. */
  | "io";

/** The one error type storage implementations throw. */
export class StorageError extends Error {
  override readonly name = "StorageError";
  constructor(
    readonly code: StorageErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
