/**
 * Fills the dedupe index at start: from the snapshot saved at the last clean
 * shutdown, then from the records written after it (after a crash), which
 * carry their message ids. The re-read is bounded per partition by the
 * topic's window and by the index's cap, never the whole log.
 */

import { type Storage, StorageError } from "../storage/storage.js";
import type { DedupeIndex } from "./dedupe-index.js";
import { partitionKey, readDedupeSnapshot } from "./dedupe-snapshot.js";
import type { Logger } from "./logger.js";
import type { PartitionLog } from "./partition-log.js";
import type { RecordCodec } from "./record-codec.js";
import { findOffsetAtTime } from "./seek.js";
import type { Topic } from "./topic.js";

/** What {@link restoreDedupe} reads from. */
export interface DedupeRestoreInput {
  readonly index: DedupeIndex;
  readonly storage: Storage;
  readonly codec: RecordCodec;
  readonly logger: Logger;
  readonly topics: Iterable<Topic>;
  readonly now: number;
}

/** Records read per step when re-reading. */
const READ_STEP = 1000;

/** Fills `index`; resolves with how many entries came from the snapshot and how many records were re-read. */
export async function restoreDedupe(input: DedupeRestoreInput): Promise<{ fromSnapshot: number; scanned: number }> {
  const { index } = input;
  const live = new Map<number, Topic>();
  for (const t of input.topics) if (t.meta.dedupeWindowMs > 0) live.set(t.meta.id, t);
  const ends = await loadSnapshot(input, live);
  const fromSnapshot = index.size;
  let scanned = 0;
  for (const topic of live.values()) {
    for (const log of topic.partitions) {
      const covered = ends?.get(partitionKey(topic.meta.id, log.partition)) ?? 0n;
      if (log.end > covered) scanned += await rereadPartition(input, topic, log, covered);
    }
  }
  return { fromSnapshot, scanned };
}

/**
 * Restores the snapshot's entries of live topics into the index as they are
 * read; resolves with the ends they cover, or `undefined` (and an index
 * emptied of what it took) when there is no usable snapshot.
 */
async function loadSnapshot(input: DedupeRestoreInput, live: ReadonlyMap<number, Topic>): Promise<ReadonlyMap<string, bigint> | undefined> {
  const { index, logger, now } = input;
  let ends: ReadonlyMap<string, bigint> | undefined;
  const forget = (): undefined => {
    for (const topicId of live.keys()) index.clear(topicId);
    return undefined;
  };
  try {
    const result = await readDedupeSnapshot(input.storage.readDedupeSnapshot(), {
      start(covered, entries) {
        ends = covered;
        index.reserve(entries);
      },
      entry(topicId, h0, h1, h2, partition, offset, timeMs) {
        if (live.has(topicId)) index.restore(topicId, h0, h1, h2, partition, offset, timeMs, now);
      },
    });
    if (result === "complete") return ends;
    if (result === "invalid") logger.warn({}, "the saved dedupe index is unreadable; re-reading the newest records instead");
    return forget();
  } catch (err) {
    // Damage there costs a re-read, never the start.
    if (!(err instanceof StorageError && err.code === "corrupt")) throw err;
    logger.warn({ err }, "the saved dedupe index is damaged; re-reading the newest records instead");
    return forget();
  }
}

/** Adds the ids of the partition's records past `covered` that are inside the window; returns how many were read. */
async function rereadPartition(input: DedupeRestoreInput, topic: Topic, log: PartitionLog, covered: bigint): Promise<number> {
  const { index, codec, now } = input;
  const publishTime = (v: Uint8Array): number => codec.publishTime(v);
  let from = covered > log.start ? covered : log.start;
  // Older records would be evicted by the cap anyway.
  const newest = log.end - BigInt(index.maxEntries);
  if (newest > from) from = newest;
  // Live means now < time + window.
  const inWindow = await findOffsetAtTime(log, now - topic.meta.dedupeWindowMs + 1, publishTime);
  if (inWindow > from) from = inWindow;
  let read = 0;
  for (;;) {
    const records = await log.read(from, READ_STEP, Infinity);
    if (records.length === 0) return read;
    for (const r of records) {
      const { messageId } = codec.decode(r.value);
      if (messageId !== "") index.add(topic.meta.id, messageId, log.partition, r.offset, codec.publishTime(r.value));
    }
    read += records.length;
    from = records[records.length - 1]!.offset + 1n;
  }
}
