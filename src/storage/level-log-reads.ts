/**
 * Reading a partition's log in {@link LevelStorage}: its packs (keyspace
 * `PACKS`, `record-pack.ts`) and, in a data directory written by format v1,
 * the single records that came before them (keyspace `RECORDS_V1`). A
 * partition's v1 records are all below its first pack: v1 never wrote packs
 * and this version never writes v1 records. `v1` arguments say whether the
 * database may still hold v1 records; when false, that keyspace is not read.
 */

import { logKey, logKeyOffset, PACKS, partitionLogRange, RECORD_KEY_LENGTH, RECORDS_V1, RECORDS_V1_RANGE } from "./level-keys.js";
import { readEndFloor } from "./level-ranges.js";
import type { AbstractIterator } from "abstract-level";
import type { LevelDb } from "./level-write-batch.js";
import { PACK_MAX_BYTES, PackReader } from "./record-pack.js";
import type { PartitionBounds, StoredRecord } from "./storage.js";

/** An iterator over packs. */
type PackIterator = AbstractIterator<LevelDb, Uint8Array, Uint8Array>;

/**
 * Cap on the entries one `nextv` call asks for: LevelDB reserves room for
 * that many up front, so an unbounded `maxRecords` must not reach it.
 */
const NEXTV_MAX_ENTRIES = 1000;
/** Packs one `nextv` call asks for: a read-ahead of up to 1024 records is a pack or two. */
const NEXTV_PACKS = 4;
/** Cap on the bytes one `nextv` call may buffer natively (it is a u32 there). */
const MAX_READ_AHEAD_BYTES = 64 * 1024 * 1024;
/** Offsets up to this value convert to and from `number` exactly. */
const MAX_EXACT = BigInt(Number.MAX_SAFE_INTEGER);

/** Whether the database holds any record of format v1. */
export async function hasV1Records(db: LevelDb): Promise<boolean> {
  const [key] = await db.keys({ ...RECORDS_V1_RANGE, limit: 1 }).all();
  return key !== undefined;
}

/** Names a pack in errors. */
function packName(topicId: number, partition: number, last: bigint): string {
  return `topic ${topicId} partition ${partition} offsets up to ${last}`;
}

/** The offset of a pack's first record. */
function firstOffset(last: bigint, count: number): bigint {
  return last - BigInt(count - 1);
}

/** `base + i` as a bigint: one allocation when `baseNumber` (`base` as a number, or -1) is given. */
function plus(base: bigint, baseNumber: number, i: number): bigint {
  return baseNumber >= 0 ? BigInt(baseNumber + i) : base + BigInt(i);
}

/**
 * The first and last offsets of the partition's records and its end floor,
 * on one snapshot, by seeking (never scanning).
 */
export async function readPartitionBounds(db: LevelDb, topicId: number, partition: number, v1: boolean): Promise<PartitionBounds> {
  const packs = partitionLogRange(PACKS, topicId, partition);
  // One snapshot, so a concurrent write cannot give a first record without a last.
  const snapshot = db.snapshot();
  let first: bigint | undefined;
  let last: bigint | undefined;
  let floor: bigint;
  try {
    const [firstPack, lastPack, firstV1, lastV1, endFloor] = await Promise.all([
      db.iterator({ ...packs, limit: 1, snapshot }).all(),
      db.keys({ ...packs, limit: 1, reverse: true, snapshot }).all(),
      v1 ? db.keys({ ...partitionLogRange(RECORDS_V1, topicId, partition), limit: 1, snapshot }).all() : [],
      v1 ? db.keys({ ...partitionLogRange(RECORDS_V1, topicId, partition), limit: 1, reverse: true, snapshot }).all() : [],
      readEndFloor(db, topicId, partition, snapshot),
    ]);
    floor = endFloor;
    const [entry] = firstPack;
    if (entry !== undefined) {
      const [key, value] = entry;
      const lastOfPack = logKeyOffset(key);
      first = firstOffset(lastOfPack, new PackReader(value, packName(topicId, partition, lastOfPack)).count);
      last = logKeyOffset(lastPack[0]!);
    }
    if (firstV1[0] !== undefined) {
      // v1 records sit below the packs; min and max keep the bounds right regardless.
      const a = logKeyOffset(firstV1[0]);
      const b = logKeyOffset(lastV1[0]!);
      first = first === undefined || a < first ? a : first;
      last = last === undefined || b > last ? b : last;
    }
  } finally {
    await snapshot.close();
  }
  if (first === undefined || last === undefined) return { start: floor, end: floor };
  const end = last + 1n;
  return { start: first, end: end > floor ? end : floor };
}

/** One `readRecords` call: where it reads, its limits, and what it has gathered so far. */
interface Read {
  readonly db: LevelDb;
  readonly topicId: number;
  readonly partition: number;
  readonly maxRecords: number;
  readonly maxBytes: number;
  readonly records: StoredRecord[];
  bytes: number;
  /** Whether it stopped at its limits, not at the end of what it reads. */
  cut: boolean;
}

/**
 * Reads records at offsets >= `from` in offset order, within `maxRecords`
 * and `maxBytes` as `Storage.readRecords` says: packs, merged with v1
 * records when the database may hold any.
 */
export async function readLogRecords(
  db: LevelDb,
  topicId: number,
  partition: number,
  from: bigint,
  maxRecords: number,
  maxBytes: number,
  v1: boolean,
): Promise<StoredRecord[]> {
  const fresh = (): Read => ({ db, topicId, partition, maxRecords, maxBytes, records: [], bytes: 0, cut: false });
  const packs = fresh();
  if (!v1) {
    await readPacks(packs, from);
    return packs.records;
  }
  const old = fresh();
  await readV1Records(old, from);
  const lastOld = old.records[old.records.length - 1];
  if (lastOld === undefined) {
    await readPacks(packs, from);
    return packs.records;
  }
  // v1 records sit below the packs, so when they fill the answer no pack is
  // read past them; a merge by offset keeps the answer right regardless.
  await readPacks(packs, from, old.cut ? lastOld.offset : undefined);
  const merged = fresh();
  const a = old.records;
  const b = packs.records;
  for (let i = 0, j = 0; (i < a.length || j < b.length) && !full(merged); ) {
    // A list cut at the limits may hold more below the other's next record: stop rather than skip them.
    if ((i >= a.length && old.cut) || (j >= b.length && packs.cut)) break;
    // A pack's record replaced a v1 record at the same offset (`level-log-tails.ts` deletes it too).
    if (j < b.length && i < a.length && a[i]!.offset === b[j]!.offset) i++;
    const r = j >= b.length || (i < a.length && a[i]!.offset < b[j]!.offset) ? a[i++]! : b[j++]!;
    if (!take(merged, r.offset, r.value)) break;
  }
  return merged.records;
}

/** Whether the read has all it may take. */
function full(read: Read): boolean {
  return read.records.length >= read.maxRecords || read.bytes >= read.maxBytes;
}

/**
 * Adds a record unless it would take the bytes past `maxBytes` (the first
 * record always goes in); false when it did not fit.
 */
function take(read: Read, offset: bigint, value: Uint8Array): boolean {
  const bytes = read.bytes + value.byteLength;
  if (bytes > read.maxBytes && read.records.length > 0) return false;
  read.bytes = bytes;
  read.records.push({ offset, value });
  return true;
}

/** Adds v1 records at offsets >= `from`, up to the limits. */
async function readV1Records(read: Read, from: bigint): Promise<void> {
  const { maxRecords, maxBytes } = read;
  const iterator = read.db.iterator({
    ...partitionLogRange(RECORDS_V1, read.topicId, read.partition, from),
    limit: Math.min(maxRecords, 0x7fff_ffff),
    highWaterMarkBytes: Math.min(maxBytes + RECORD_KEY_LENGTH * maxRecords, MAX_READ_AHEAD_BYTES),
  });
  try {
    while (!full(read)) {
      const entries = await iterator.nextv(Math.min(maxRecords - read.records.length, NEXTV_MAX_ENTRIES));
      if (entries.length === 0) return;
      for (const [key, value] of entries) {
        if (!take(read, logKeyOffset(key), value)) {
          read.cut = true;
          return;
        }
      }
    }
    read.cut = true;
  } finally {
    await iterator.close();
  }
}

/** Adds pack records at offsets >= `from`, up to the limits, from packs that start at or below `upTo` (default: all). */
async function readPacks(read: Read, from: bigint, upTo?: bigint): Promise<void> {
  if (full(read)) return;
  const { topicId, partition } = read;
  // The pack holding `from` is the first whose last offset is >= `from`.
  const iterator = read.db.iterator({
    ...partitionLogRange(PACKS, topicId, partition, from),
    highWaterMarkBytes: Math.min(read.maxBytes + PACK_MAX_BYTES, MAX_READ_AHEAD_BYTES),
  });
  try {
    for (;;) {
      const entries = await iterator.nextv(NEXTV_PACKS);
      if (entries.length === 0) return;
      for (const [key, value] of entries) {
        const last = logKeyOffset(key);
        const pack = new PackReader(value, packName(topicId, partition, last));
        const first = firstOffset(last, pack.count);
        if (upTo !== undefined && first > upTo) return;
        let i = 0;
        if (first < from) {
          i = Number(from - first);
          pack.skip(i);
        }
        // Offsets as numbers while the pack's last one is exact as a number.
        const firstNumber = last <= MAX_EXACT ? Number(first) : -1;
        for (; i < pack.count; i++) {
          if (!take(read, plus(first, firstNumber, i), pack.next()) || full(read)) {
            read.cut = true;
            return;
          }
        }
      }
    }
  } finally {
    await iterator.close();
  }
}

/**
 * The values at `offsets`, in the order given; `undefined` where none
 * exists. Packs by seeking one iterator (nearby offsets in order read on
 * in the same pack, without a seek), then v1 records by one `getMany`.
 */
export async function getLogRecords(
  db: LevelDb,
  topicId: number,
  partition: number,
  offsets: readonly bigint[],
  v1: boolean,
): Promise<(Uint8Array | undefined)[]> {
  const values = new Array<Uint8Array | undefined>(offsets.length).fill(undefined);
  const iterator: PackIterator = db.iterator(partitionLogRange(PACKS, topicId, partition));
  try {
    let pack: { first: bigint; last: bigint; reader: PackReader; at: bigint } | undefined;
    for (let k = 0; k < offsets.length; k++) {
      const offset = offsets[k]!;
      if (pack === undefined || offset < pack.at || offset > pack.last) {
        pack = await seekPack(iterator, topicId, partition, offset);
        if (pack === undefined) continue;
      }
      if (offset < pack.first) continue;
      pack.reader.skip(Number(offset - pack.at));
      // A copy: the caller may keep one record for long (a redelivery).
      values[k] = pack.reader.next().slice();
      pack.at = offset + 1n;
    }
  } finally {
    await iterator.close();
  }
  if (!v1 || values.every((v) => v !== undefined)) return values;
  const missing = offsets.flatMap((o, k) => (values[k] === undefined ? [k] : []));
  const found = await db.getMany(missing.map((k) => logKey(RECORDS_V1, topicId, partition, offsets[k]!)));
  missing.forEach((k, i) => (values[k] = found[i]));
  return values;
}

/** The pack holding `offset` or, if none does, the first after it; `undefined` past the last. */
async function seekPack(
  iterator: PackIterator,
  topicId: number,
  partition: number,
  offset: bigint,
): Promise<{ first: bigint; last: bigint; reader: PackReader; at: bigint } | undefined> {
  iterator.seek(logKey(PACKS, topicId, partition, offset));
  const entry = await iterator.next();
  if (entry === undefined) return undefined;
  const [key, value] = entry;
  const last = logKeyOffset(key);
  const reader = new PackReader(value, packName(topicId, partition, last));
  const first = firstOffset(last, reader.count);
  return { first, last, reader, at: first };
}
