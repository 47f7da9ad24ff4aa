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
    if (firstV1[0] !== undefined) first = logKeyOffset(firstV1[0]);
    else if (entry !== undefined) {
      const [key, value] = entry;
      const lastOfPack = logKeyOffset(key);
      first = firstOffset(lastOfPack, new PackReader(value, packName(topicId, partition, lastOfPack)).count);
    }
    if (lastPack[0] !== undefined) last = logKeyOffset(lastPack[0]);
    else if (lastV1[0] !== undefined) last = logKeyOffset(lastV1[0]);
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
}

/**
 * Reads records at offsets >= `from` in offset order, within `maxRecords`
 * and `maxBytes` as `Storage.readRecords` says: v1 records first, then packs.
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
  const read: Read = { db, topicId, partition, maxRecords, maxBytes, records: [], bytes: 0 };
  if (v1) {
    if (await readV1Records(read, from)) return read.records;
    const last = read.records[read.records.length - 1];
    if (last !== undefined) from = last.offset + 1n;
  }
  await readPacks(read, from);
  return read.records;
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

/** Adds v1 records at offsets >= `from`; true when a limit was reached. */
async function readV1Records(read: Read, from: bigint): Promise<boolean> {
  const { maxRecords, maxBytes } = read;
  const iterator = read.db.iterator({
    ...partitionLogRange(RECORDS_V1, read.topicId, read.partition, from),
    limit: Math.min(maxRecords, 0x7fff_ffff),
    highWaterMarkBytes: Math.min(maxBytes + RECORD_KEY_LENGTH * maxRecords, MAX_READ_AHEAD_BYTES),
  });
  try {
    while (!full(read)) {
      const entries = await iterator.nextv(Math.min(maxRecords - read.records.length, NEXTV_MAX_ENTRIES));
      if (entries.length === 0) return false;
      for (const [key, value] of entries) if (!take(read, logKeyOffset(key), value)) return true;
    }
    return true;
  } finally {
    await iterator.close();
  }
}

/** Adds pack records at offsets >= `from`, up to the limits. */
async function readPacks(read: Read, from: bigint): Promise<void> {
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
        let i = 0;
        if (first < from) {
          i = Number(from - first);
          pack.skip(i);
        }
        // Offsets as numbers while the pack's last one is exact as a number.
        const firstNumber = last <= MAX_EXACT ? Number(first) : -1;
        for (; i < pack.count; i++) {
          if (!take(read, plus(first, firstNumber, i), pack.next()) || full(read)) return;
        }
      }
    }
  } finally {
    await iterator.close();
  }
}

/**
 * The values at `offsets`, in the order given; `undefined` where none
 * exists. v1 records by one `getMany`, packs by seeking one iterator (the
 * last pack found is kept, so nearby offsets cost no seek).
 */
export async function getLogRecords(
  db: LevelDb,
  topicId: number,
  partition: number,
  offsets: readonly bigint[],
  v1: boolean,
): Promise<(Uint8Array | undefined)[]> {
  const values: (Uint8Array | undefined)[] = v1
    ? await db.getMany(offsets.map((o) => logKey(RECORDS_V1, topicId, partition, o)))
    : new Array<Uint8Array | undefined>(offsets.length).fill(undefined);
  if (values.every((v) => v !== undefined)) return values;
  const snapshot = db.snapshot();
  const iterator: PackIterator = db.iterator({ ...partitionLogRange(PACKS, topicId, partition), snapshot });
  try {
    let pack: { first: bigint; last: bigint; value: Uint8Array } | undefined;
    for (let k = 0; k < offsets.length; k++) {
      if (values[k] !== undefined) continue;
      const offset = offsets[k]!;
      if (pack === undefined || offset < pack.first || offset > pack.last) {
        pack = await seekPack(iterator, topicId, partition, offset);
        if (pack === undefined) continue;
      }
      if (offset < pack.first) continue;
      const reader = new PackReader(pack.value, packName(topicId, partition, pack.last));
      reader.skip(Number(offset - pack.first));
      // A copy: the caller may keep one record for long (a redelivery).
      values[k] = reader.next().slice();
    }
  } finally {
    await iterator.close();
    await snapshot.close();
  }
  return values;
}

/** The pack holding `offset` or, if none does, the first after it; `undefined` past the last. */
async function seekPack(
  iterator: PackIterator,
  topicId: number,
  partition: number,
  offset: bigint,
): Promise<{ first: bigint; last: bigint; value: Uint8Array } | undefined> {
  iterator.seek(logKey(PACKS, topicId, partition, offset));
  const entry = await iterator.next();
  if (entry === undefined) return undefined;
  const [key, value] = entry;
  const last = logKeyOffset(key);
  return { first: firstOffset(last, new PackReader(value, packName(topicId, partition, last)).count), last, value };
}
