/**
 * Reading a partition's log in {@link LevelStorage}: its packs
 * (`record-pack.ts`) and, in a data directory written by format v1, the
 * single records stored before them, both in the log keyspace and sorted by
 * offset (`level-keys.ts`), so one iterator reads both.
 */

import type { AbstractIterator, AbstractSnapshot } from "abstract-level";
import { logKeyOffset, partitionLogRange, recordKey } from "./level-keys.js";
import { logEntry, type LogEntry } from "./level-log-entry.js";
import { readEndFloor } from "./level-ranges.js";
import type { LevelDb } from "./level-write-batch.js";
import { PACK_MAX_BYTES } from "./record-pack.js";
import type { PartitionBounds, StoredRecord } from "./storage.js";

/** An iterator over log entries. */
type LogIterator = AbstractIterator<LevelDb, Uint8Array, Uint8Array>;

/**
 * Entries the first `nextv` call of a read asks for: the pack holding `from`
 * and the next. Later calls ask for what the last pack says is left (see
 * {@link entriesFor}), up to {@link NEXTV_MAX_ENTRIES}: four 64 KiB packs,
 * which is what one call buffers at most, natively and then as Buffers.
 */
const NEXTV_FIRST_ENTRIES = 2;
const NEXTV_MAX_ENTRIES = 4;
/** Cap on the bytes one `nextv` call may buffer natively (it is a u32 there). */
const MAX_READ_AHEAD_BYTES = 64 * 1024 * 1024;
/** Offsets up to this value convert to and from `number` exactly. */
const MAX_EXACT = BigInt(Number.MAX_SAFE_INTEGER);

/** `base + i` as a bigint: one allocation when `baseNumber` (`base` as a number, or -1) is given. */
function plus(base: bigint, baseNumber: number, i: number): bigint {
  return baseNumber >= 0 ? BigInt(baseNumber + i) : base + BigInt(i);
}

/** The offset of the partition's last stored record (one reverse seek), read from `snapshot` when given. */
export async function readLastOffset(db: LevelDb, topicId: number, partition: number, snapshot?: AbstractSnapshot): Promise<bigint | undefined> {
  const [key] = await db.keys({ ...partitionLogRange(topicId, partition), limit: 1, reverse: true, snapshot }).all();
  return key === undefined ? undefined : logKeyOffset(key);
}

/**
 * The first and last offsets of the partition's records and its end floor,
 * on one snapshot, by seeking (never scanning).
 */
export async function readPartitionBounds(db: LevelDb, topicId: number, partition: number): Promise<PartitionBounds> {
  // One snapshot, so a concurrent write cannot give a first record without a last.
  const snapshot = db.snapshot();
  let first: bigint | undefined;
  let last: bigint | undefined;
  let floor: bigint;
  try {
    const [[head], tail, endFloor] = await Promise.all([
      db.iterator({ ...partitionLogRange(topicId, partition), limit: 1, snapshot }).all(),
      readLastOffset(db, topicId, partition, snapshot),
      readEndFloor(db, topicId, partition, snapshot),
    ]);
    floor = endFloor;
    if (head !== undefined && tail !== undefined) {
      first = logEntry(head[0], head[1]).first;
      last = tail;
    }
  } finally {
    await snapshot.close();
  }
  if (first === undefined || last === undefined) return { start: floor, end: floor };
  const end = last + 1n;
  return { start: first, end: end > floor ? end : floor };
}

/**
 * Reads records at offsets >= `from` in offset order, stopping after
 * `maxRecords` or before the values would add up to more than `maxBytes`
 * (at least one record), as `Storage.readRecords` says.
 */
export async function readLogRecords(
  db: LevelDb,
  topicId: number,
  partition: number,
  from: bigint,
  maxRecords: number,
  maxBytes: number,
): Promise<StoredRecord[]> {
  const records: StoredRecord[] = [];
  let bytes = 0;
  const iterator: LogIterator = db.iterator({
    ...partitionLogRange(topicId, partition, from),
    highWaterMarkBytes: Math.min(maxBytes + PACK_MAX_BYTES, MAX_READ_AHEAD_BYTES),
  });
  let want = NEXTV_FIRST_ENTRIES;
  try {
    for (;;) {
      const entries = await iterator.nextv(want);
      if (entries.length === 0) return records;
      for (const [key, value] of entries) {
        const { first, last, reader } = logEntry(key, value);
        let i = 0;
        if (first < from) {
          i = Number(from - first);
          reader.skip(i);
        }
        // Offsets as numbers while the entry's last one is exact as a number.
        const firstNumber = last <= MAX_EXACT ? Number(first) : -1;
        for (; i < reader.count; i++) {
          const record = reader.next();
          bytes += record.byteLength;
          if (bytes > maxBytes && records.length > 0) return records;
          records.push({ offset: plus(first, firstNumber, i), value: record });
          if (records.length >= maxRecords || bytes >= maxBytes) return records;
        }
        want = entriesFor(maxRecords - records.length, maxBytes - bytes, reader.count, value.byteLength);
      }
    }
  } finally {
    await iterator.close();
  }
}

/**
 * How many entries the next `nextv` call of a read should ask for, when
 * `records` and `bytes` are left and the last entry held `entryRecords`
 * records in `entryBytes`: enough for what is left if the next entries are
 * like it, at least one, at most {@link NEXTV_MAX_ENTRIES}. Every entry a
 * call returns is copied twice (into the worker's cache, then into a
 * Buffer), so entries the read does not use cost memory and CPU for
 * nothing: a fixed four per call read about twice the packs a 1,024-record
 * read of 100-byte messages needs.
 */
function entriesFor(records: number, bytes: number, entryRecords: number, entryBytes: number): number {
  const n = Math.min(records / entryRecords, bytes / entryBytes);
  // Also 1 for NaN, which an entry of no records or bytes would give.
  return n > 1 ? Math.min(NEXTV_MAX_ENTRIES, Math.ceil(n)) : 1;
}

/**
 * The values at `offsets`, in the order given; `undefined` where none
 * exists. One iterator seeks the entries holding them; nearby offsets in
 * order read on in the same pack, without a seek.
 */
export async function getLogRecords(
  db: LevelDb,
  topicId: number,
  partition: number,
  offsets: readonly bigint[],
): Promise<(Uint8Array | undefined)[]> {
  const values = new Array<Uint8Array | undefined>(offsets.length).fill(undefined);
  const iterator: LogIterator = db.iterator(partitionLogRange(topicId, partition));
  try {
    let entry: (LogEntry & { at: bigint }) | undefined;
    for (let k = 0; k < offsets.length; k++) {
      const offset = offsets[k]!;
      if (entry === undefined || offset < entry.at || offset > entry.last) {
        iterator.seek(recordKey(topicId, partition, offset));
        const next = await iterator.next();
        if (next === undefined) {
          entry = undefined;
          continue;
        }
        const found = logEntry(next[0], next[1]);
        entry = { ...found, at: found.first };
      }
      if (offset < entry.first) continue;
      entry.reader.skip(Number(offset - entry.at));
      // A copy: the caller may keep one record for long (a redelivery).
      values[k] = entry.reader.next().slice();
      entry.at = offset + 1n;
    }
  } finally {
    await iterator.close();
  }
  return values;
}
