/**
 * The {@link WriteBatch} of {@link LevelStorage}: collects what to write,
 * then replays it into one classic-level chained batch at
 * {@link LevelWriteBatch.write}.
 */

import type { ClassicLevel } from "classic-level";
import { encodeGroupPartitionState } from "./group-state-codec.js";
import { toStorageError } from "./level-errors.js";
import {
  DEDUPE_SNAPSHOT_KEY,
  NEXT_IDS_KEY,
  deletedTopicKey,
  groupMetaKey,
  groupStateKey,
  RECORD_KEY_LENGTH,
  topicMetaKey,
  writeRecordKey,
} from "./level-keys.js";
import { encodeGroupMeta, encodeNextIds, encodeTopicMeta } from "./meta-codec.js";
import { type GroupMeta, type GroupPartitionState, StorageError, type TopicMeta, type WriteBatch } from "./storage.js";
import { assertU32, assertU64 } from "./validate.js";

/** The database type {@link LevelStorage} uses: binary keys and values. */
export type LevelDb = ClassicLevel<Uint8Array, Uint8Array>;

const EMPTY = new Uint8Array(0);

/** A length as the value of `DEDUPE_SNAPSHOT_KEY`: a big-endian `f64`. */
function encodeLength(length: number): Uint8Array {
  const bytes = new Uint8Array(8);
  new DataView(bytes.buffer).setFloat64(0, length);
  return bytes;
}

/** The length {@link encodeLength} wrote; rejects another value with `corrupt`. */
export function decodeSnapshotLength(bytes: Uint8Array): number {
  const length = bytes.byteLength === 8 ? new DataView(bytes.buffer, bytes.byteOffset, 8).getFloat64(0) : NaN;
  if (!Number.isSafeInteger(length) || length < 0) throw new StorageError("corrupt", "malformed dedupe snapshot length");
  return length;
}

/**
 * A batch of writes for {@link LevelStorage}. Builder methods validate their
 * arguments and throw `RangeError` on bad ids or offsets, and `Error` once
 * the batch was written. Values are held by reference until `write()` is
 * called, which copies them into LevelDB.
 */
export class LevelWriteBatch implements WriteBatch {
  // Why not a chained batch right away: abstract-level registers every chained
  // batch on the database until it is written or closed, so a batch that the
  // caller drops would leak. Replaying from two arrays measured within ~3% of
  // putting directly (1M x 100 B records, batches of 1000).
  readonly #keys: Uint8Array[] = [];
  /** `undefined` marks a delete. */
  readonly #values: (Uint8Array | undefined)[] = [];
  // Log records, one per published message, are kept apart as their topic
  // and partition (two numbers each), offset and value: their keys are built
  // at write time in one reused buffer instead of one allocation each.
  readonly #recordParts: number[] = [];
  readonly #recordOffsets: bigint[] = [];
  readonly #recordValues: Uint8Array[] = [];
  readonly #database: (action: string) => LevelDb | Promise<LevelDb>;
  readonly #failed: ((err: StorageError) => void) | undefined;
  /** The dedupe snapshot to save once the rest is durable. */
  #snapshot: Uint8Array | undefined;
  readonly #saveSnapshot: (bytes: Uint8Array) => Promise<void>;
  /** Builder calls, which is what `length` reports. */
  #length = 0;
  #written = false;

  /**
   * @param database returns the database to write to, or throws (`unavailable`, `full`).
   * @param saveSnapshot saves a dedupe snapshot (after the batch's LevelDB writes).
   * @param failed hears of a write that LevelDB or the file system refused.
   */
  constructor(
    database: (action: string) => LevelDb | Promise<LevelDb>,
    saveSnapshot: (bytes: Uint8Array) => Promise<void>,
    failed?: (err: StorageError) => void,
  ) {
    this.#database = database;
    this.#saveSnapshot = saveSnapshot;
    this.#failed = failed;
  }

  get length(): number {
    return this.#length;
  }

  appendRecord(topicId: number, partition: number, offset: bigint, value: Uint8Array): this {
    this.#assertNotWritten();
    assertU32("topicId", topicId);
    assertU32("partition", partition);
    assertU64("offset", offset);
    this.#recordParts.push(topicId, partition);
    this.#recordOffsets.push(offset);
    this.#recordValues.push(value);
    this.#length++;
    return this;
  }

  putTopic(meta: TopicMeta): this {
    this.#assertNotWritten();
    this.#put(topicMetaKey(meta.id), encodeTopicMeta(meta));
    return this.#counted();
  }

  deleteTopic(topicId: number): this {
    this.#assertNotWritten();
    assertU32("topicId", topicId);
    this.#del(topicMetaKey(topicId));
    // The tombstone lets purgeDeleted() find the records, after a crash too.
    this.#put(deletedTopicKey(topicId), EMPTY);
    return this.#counted();
  }

  putGroup(meta: GroupMeta): this {
    this.#assertNotWritten();
    this.#put(groupMetaKey(meta.id), encodeGroupMeta(meta));
    return this.#counted();
  }

  deleteGroup(groupId: number, partitions: number): this {
    this.#assertNotWritten();
    assertU32("groupId", groupId);
    assertU32("partitions", partitions);
    this.#del(groupMetaKey(groupId));
    for (let partition = 0; partition < partitions; partition++) {
      this.#del(groupStateKey(groupId, partition));
    }
    return this.#counted();
  }

  putGroupPartition(groupId: number, partition: number, state: GroupPartitionState): this {
    this.#assertNotWritten();
    assertU32("groupId", groupId);
    assertU32("partition", partition);
    this.#put(groupStateKey(groupId, partition), encodeGroupPartitionState(state));
    return this.#counted();
  }

  setNextIds(nextTopicId: number, nextGroupId: number): this {
    this.#assertNotWritten();
    assertU32("nextTopicId", nextTopicId);
    assertU32("nextGroupId", nextGroupId);
    this.#put(NEXT_IDS_KEY, encodeNextIds(nextTopicId, nextGroupId));
    return this.#counted();
  }

  putDedupeSnapshot(snapshot: Uint8Array): this {
    this.#assertNotWritten();
    if (!(snapshot instanceof Uint8Array)) throw new RangeError("a dedupe snapshot must be a Uint8Array");
    this.#snapshot = snapshot;
    return this.#counted();
  }

  async write(options: { sync: boolean }): Promise<void> {
    this.#assertNotWritten();
    this.#written = true;
    const db = await this.#database("writing a batch");
    const keys = this.#keys;
    const values = this.#values;
    const snapshot = this.#snapshot;
    // The snapshot's length goes into this batch, synced (and with it every
    // earlier write) before the file is written: a snapshot must never be
    // durable ahead of the records it covers.
    if (snapshot !== undefined) this.#put(DEDUPE_SNAPSHOT_KEY, encodeLength(snapshot.byteLength));
    let chained: ReturnType<LevelDb["batch"]> | undefined;
    try {
      if (keys.length > 0 || this.#recordValues.length > 0) {
        // A chained batch, never the array form: the array form costs 4-5x
        // more JavaScript CPU per operation (BASELINES.md).
        chained = db.batch();
        // Records first: their keyspace is apart from every other key here,
        // so the order between the two groups changes nothing.
        this.#putRecords(chained);
        for (let i = 0; i < keys.length; i++) {
          const value = values[i];
          if (value === undefined) chained.del(keys[i]);
          else chained.put(keys[i], value);
        }
        await chained.write({ sync: options.sync || snapshot !== undefined });
      }
      if (snapshot !== undefined) await this.#saveSnapshot(snapshot);
    } catch (err) {
      // write() closes the batch itself; this covers a failure while filling it.
      await chained?.close().catch(() => undefined);
      const error = toStorageError(err, "writing a batch");
      this.#failed?.(error);
      throw error;
    }
  }

  /**
   * Adds the records to `chained`, each key written into one buffer: LevelDB
   * copies keys and values when they are added, and nothing here listens to
   * the database's `write` events (which would see the buffer reused).
   */
  #putRecords(chained: ReturnType<LevelDb["batch"]>): void {
    const parts = this.#recordParts;
    const offsets = this.#recordOffsets;
    const values = this.#recordValues;
    const key = new Uint8Array(RECORD_KEY_LENGTH);
    for (let i = 0; i < values.length; i++) {
      writeRecordKey(key, parts[2 * i]!, parts[2 * i + 1]!, offsets[i]!);
      chained.put(key, values[i]!);
    }
  }

  #put(key: Uint8Array, value: Uint8Array): void {
    this.#keys.push(key);
    this.#values.push(value);
  }

  #del(key: Uint8Array): void {
    this.#keys.push(key);
    this.#values.push(undefined);
  }

  #counted(): this {
    this.#length++;
    return this;
  }

  #assertNotWritten(): void {
    if (this.#written) throw new Error("this batch was already written; start a new one");
  }
}
