/**
 * {@link Storage} in memory, for fast tests of the broker core. It keeps the
 * contract of {@link LevelStorage} (it runs the same conformance suite),
 * including validation, copying and error codes, and adds failure injection.
 */

import { decodeGroupPartitionState, encodeGroupPartitionState } from "./group-state-codec.js";
import { MemoryPartitionLog } from "./memory-partition-log.js";
import { assertGroupMeta, assertTopicMeta } from "./meta-codec.js";
import {
  StorageError,
  type GroupMeta,
  type GroupPartitionState,
  type PartitionBounds,
  type Storage,
  type StorageErrorCode,
  type StoredRecord,
  type StoredState,
  type TopicMeta,
  type WriteBatch,
} from "./storage.js";
import { assertReadLimits, assertU32, assertU64 } from "./validate.js";

/** What a batch does to the state, prepared by the builder methods. */
type Operation = (state: MemoryState) => void;

interface MemoryState {
  /** topic id -> partition -> log. */
  readonly logs: Map<number, Map<number, MemoryPartitionLog>>;
  readonly topics: Map<number, TopicMeta>;
  readonly groups: Map<number, GroupMeta>;
  /** `${groupId}/${partition}` -> encoded state, so reads decode a fresh copy. */
  readonly groupStates: Map<string, Uint8Array>;
  readonly deletedTopics: Set<number>;
  dedupeSnapshot: Uint8Array | undefined;
  nextIds: { nextTopicId: number; nextGroupId: number };
}

const copy = (bytes: Uint8Array): Uint8Array => bytes.slice();

/**
 * {@link Storage} in memory. Data survives `close()`: calling `open()` again
 * on the same instance simulates a restart. Like {@link LevelStorage}, a
 * batch holds record values by reference until `write()` is called and then
 * copies them; reads return fresh copies, so nothing a caller mutates later
 * changes what is stored. `write()` applies a batch all at once, before it
 * resolves; `sync` is ignored.
 */
export class MemoryStorage implements Storage {
  readonly #state: MemoryState = {
    logs: new Map(),
    topics: new Map(),
    groups: new Map(),
    groupStates: new Map(),
    deletedTopics: new Set(),
    dedupeSnapshot: undefined,
    nextIds: { nextTopicId: 1, nextGroupId: 1 },
  };
  #open = false;
  #failures: { count: number; code: StorageErrorCode } = { count: 0, code: "io" };

  /**
   * Makes the next `count` batch writes reject with a {@link StorageError}
   * of `code` (default `io`), applying nothing, as a failed disk write would.
   * Calling it again replaces the previous injection; `count` 0 cancels it.
   */
  failNextWrites(count: number, code: StorageErrorCode = "io"): void {
    this.#failures = { count, code };
  }

  /** Opens (or reopens, keeping the data). Resolves at once when open. */
  async open(): Promise<void> {
    this.#open = true;
  }

  /** Closes; the data stays for the next `open()`. Idempotent. */
  async close(): Promise<void> {
    this.#open = false;
  }

  /** See {@link Storage.load}. Counters are 1 when never set, as in LevelStorage. */
  async load(): Promise<StoredState> {
    const state = this.#require("loading state");
    const byId = <T extends { id: number }>(a: T, b: T): number => a.id - b.id;
    const groupPartitions = new Map<string, GroupPartitionState>();
    const states = [...state.groupStates].sort(([a], [b]) => compareGroupStateKeys(a, b));
    for (const [key, encoded] of states) groupPartitions.set(key, decodeGroupPartitionState(encoded));
    return {
      topics: [...state.topics.values()].map((t) => ({ ...t })).sort(byId),
      groups: [...state.groups.values()].map((g) => ({ ...g })).sort(byId),
      groupPartitions,
      ...state.nextIds,
    };
  }

  /** See {@link Storage.partitionBounds}. */
  async partitionBounds(topicId: number, partition: number): Promise<PartitionBounds> {
    assertU32("topicId", topicId);
    assertU32("partition", partition);
    const log = this.#require("reading partition bounds").logs.get(topicId)?.get(partition);
    return log?.bounds() ?? { start: 0n, end: 0n };
  }

  /** See {@link Storage.readRecords}. */
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
    const log = this.#require("reading records").logs.get(topicId)?.get(partition);
    return log?.read(from, maxRecords, maxBytes, copy) ?? [];
  }

  /** See {@link Storage.getRecords}. */
  async getRecords(
    topicId: number,
    partition: number,
    offsets: readonly bigint[],
  ): Promise<(Uint8Array | undefined)[]> {
    assertU32("topicId", topicId);
    assertU32("partition", partition);
    for (const offset of offsets) assertU64("offset", offset);
    const log = this.#require("reading records").logs.get(topicId)?.get(partition);
    return offsets.map((offset) => {
      const value = log?.get(offset);
      return value === undefined ? undefined : copy(value);
    });
  }

  /** Starts a batch; its `write()` rejects with `unavailable` when closed. */
  batch(): WriteBatch {
    return new MemoryWriteBatch((operations) => this.#apply(operations));
  }

  /** See {@link Storage.purgeDeleted}. Removes everything at once. */
  async purgeDeleted(): Promise<void> {
    const state = this.#require("purging deleted topics");
    for (const topicId of state.deletedTopics) {
      state.logs.delete(topicId);
    }
    state.deletedTopics.clear();
  }

  /** See {@link Storage.deleteRecords}. Removes them all at once. */
  async deleteRecords(topicId: number, partition: number, from: bigint, to: bigint): Promise<void> {
    assertU32("topicId", topicId);
    assertU32("partition", partition);
    assertU64("from", from);
    assertU64("to", to);
    const state = this.#require("deleting records");
    if (from >= to) return;
    let partitions = state.logs.get(topicId);
    if (partitions === undefined) state.logs.set(topicId, (partitions = new Map()));
    let log = partitions.get(partition);
    if (log === undefined) partitions.set(partition, (log = new MemoryPartitionLog()));
    log.deleteRange(from, to);
  }

  /** See {@link Storage.partitionBytes}: the exact sum of the values' lengths. */
  async partitionBytes(topicId: number, partition: number, from = 0n): Promise<number> {
    assertU32("topicId", topicId);
    assertU32("partition", partition);
    assertU64("from", from);
    return this.#require("measuring a partition").logs.get(topicId)?.get(partition)?.bytes(from) ?? 0;
  }

  /** See {@link Storage.readDedupeSnapshot}: one piece. */
  async *readDedupeSnapshot(): AsyncGenerator<Uint8Array> {
    const snapshot = this.#require("reading the dedupe snapshot").dedupeSnapshot;
    if (snapshot !== undefined) yield copy(snapshot);
  }

  #apply(operations: readonly Operation[]): void {
    const state = this.#require("writing a batch");
    if (this.#failures.count > 0) {
      this.#failures.count--;
      throw new StorageError(this.#failures.code, "injected write failure (MemoryStorage.failNextWrites)");
    }
    // Builders did every check, so applying cannot fail half-way.
    for (const operation of operations) operation(state);
  }

  #require(action: string): MemoryState {
    if (!this.#open) throw new StorageError("unavailable", `storage is not open (${action})`);
    return this.#state;
  }
}

/** Orders `${groupId}/${partition}` keys numerically, as LevelStorage's keys are. */
function compareGroupStateKeys(a: string, b: string): number {
  const [ga = 0, pa = 0] = a.split("/").map(Number);
  const [gb = 0, pb = 0] = b.split("/").map(Number);
  return ga - gb || pa - pb;
}

/** The {@link WriteBatch} of {@link MemoryStorage}: a list of prepared operations. */
class MemoryWriteBatch implements WriteBatch {
  readonly #operations: Operation[] = [];
  readonly #apply: (operations: readonly Operation[]) => void;
  #written = false;

  constructor(apply: (operations: readonly Operation[]) => void) {
    this.#apply = apply;
  }

  get length(): number {
    return this.#operations.length;
  }

  appendRecord(topicId: number, partition: number, offset: bigint, value: Uint8Array): this {
    assertU32("topicId", topicId);
    assertU32("partition", partition);
    assertU64("offset", offset);
    return this.#add((state) => {
      let partitions = state.logs.get(topicId);
      if (partitions === undefined) state.logs.set(topicId, (partitions = new Map()));
      let log = partitions.get(partition);
      if (log === undefined) partitions.set(partition, (log = new MemoryPartitionLog()));
      log.set(offset, copy(value));
    });
  }

  putTopic(meta: TopicMeta): this {
    assertTopicMeta(meta);
    const stored = { ...meta };
    return this.#add((state) => void state.topics.set(stored.id, stored));
  }

  deleteTopic(topicId: number): this {
    assertU32("topicId", topicId);
    return this.#add((state) => {
      state.topics.delete(topicId);
      state.deletedTopics.add(topicId);
    });
  }

  putGroup(meta: GroupMeta): this {
    assertGroupMeta(meta);
    const stored = { ...meta };
    return this.#add((state) => void state.groups.set(stored.id, stored));
  }

  deleteGroup(groupId: number, partitions: number): this {
    assertU32("groupId", groupId);
    assertU32("partitions", partitions);
    return this.#add((state) => {
      state.groups.delete(groupId);
      for (let partition = 0; partition < partitions; partition++) {
        state.groupStates.delete(`${groupId}/${partition}`);
      }
    });
  }

  putGroupPartition(groupId: number, partition: number, state: GroupPartitionState): this {
    assertU32("groupId", groupId);
    assertU32("partition", partition);
    const encoded = encodeGroupPartitionState(state);
    return this.#add((s) => void s.groupStates.set(`${groupId}/${partition}`, encoded));
  }

  setNextIds(nextTopicId: number, nextGroupId: number): this {
    assertU32("nextTopicId", nextTopicId);
    assertU32("nextGroupId", nextGroupId);
    return this.#add((state) => {
      state.nextIds = { nextTopicId, nextGroupId };
    });
  }

  putDedupeSnapshot(snapshot: Uint8Array): this {
    if (!(snapshot instanceof Uint8Array)) throw new RangeError("a dedupe snapshot must be a Uint8Array");
    return this.#add((state) => {
      // Copied when written, like record values.
      state.dedupeSnapshot = copy(snapshot);
    });
  }

  async write(_options: { sync: boolean }): Promise<void> {
    this.#assertNotWritten();
    this.#written = true;
    this.#apply(this.#operations);
  }

  #add(operation: Operation): this {
    this.#assertNotWritten();
    this.#operations.push(operation);
    return this;
  }

  #assertNotWritten(): void {
    if (this.#written) throw new Error("this batch was already written; start a new one");
  }
}
