/**
 * The binary key layout of {@link LevelStorage}. Every integer is big-endian
 * so that LevelDB's bytewise order is numeric order. Each concern owns the
 * keyspace under a one-byte prefix:
 *
 * - `0x00 kind ...`: metadata (topics, groups, id counters, tombstones of
 *   deleted topics, the format marker, the dedupe snapshot file's length);
 *   small and rarely written.
 * - `0x01 topicId:u32 partition:u32 offset:u64`: log records of format v1,
 *   one per key (17 bytes). Still read, never written: a data directory of
 *   v1 keeps them until retention or a topic's deletion removes them.
 * - `0x02 groupId:u32 partition:u32`: a group's state in one partition.
 * - `0x03 ...`: dedupe entries of earlier versions, one per message; deleted
 *   at start (see `LEGACY_DEDUPE_RANGE`).
 * - `0x04 topicId:u32 partition:u32`: the partition's end floor (`u64`), set
 *   when records are deleted, so that an emptied log keeps its offsets.
 * - `0x05 ...`: the dedupe snapshot of an earlier version, in chunks;
 *   deleted at start (see `LEGACY_DEDUPE_SNAPSHOT_RANGE`). The snapshot is now
 *   a file (`dedupe-snapshot-file.ts`) whose length is kept in the metadata.
 * - `0x06 topicId:u32 partition:u32 lastOffset:u64`: log packs (17 bytes):
 *   a run of records at consecutive offsets ending at `lastOffset`, in one
 *   value (`record-pack.ts`). Keyed by the last offset so that the pack
 *   holding offset `o` is the first key at or after `o`'s.
 * - `0xff`: never written; an empty range to compact (see {@link UNUSED_KEY}).
 *
 * Callers validate ids and offsets before building keys (see `validate.ts`).
 */

const META = 0x00;
/** The log keyspace of format v1: one record per key. */
export const RECORDS_V1 = 0x01;
const GROUP_STATE = 0x02;
const LEGACY_DEDUPE = 0x03;
const END_FLOOR = 0x04;
const LEGACY_DEDUPE_SNAPSHOT = 0x05;
/** The log keyspace of packs of records. */
export const PACKS = 0x06;

/** A log keyspace: {@link RECORDS_V1} or {@link PACKS}; both key by topic, partition and an offset. */
export type LogSpace = typeof RECORDS_V1 | typeof PACKS;

const META_TOPIC = 0x01;
const META_GROUP = 0x02;
const META_NEXT_IDS = 0x03;
const META_DELETED_TOPIC = 0x04;
const META_DEDUPE_SNAPSHOT = 0x05;

/** Length of a log key (a record's or a pack's). */
export const RECORD_KEY_LENGTH = 17;

const TWO_POW_32 = 0x1_0000_0000;
/** Offsets up to this value convert to and from `number` exactly. */
const MAX_EXACT = BigInt(Number.MAX_SAFE_INTEGER);

/** An inclusive key range, for iterators, `clear()` and `compactRange()`. */
export interface KeyRange {
  readonly gte: Uint8Array;
  readonly lte: Uint8Array;
}

/** The keys under a one-byte prefix. */
export interface PrefixRange {
  readonly gte: Uint8Array;
  readonly lt: Uint8Array;
}

function writeU32(key: Uint8Array, at: number, value: number): void {
  key[at] = value >>> 24;
  key[at + 1] = value >>> 16;
  key[at + 2] = value >>> 8;
  key[at + 3] = value;
}

function readU32(key: Uint8Array, at: number): number {
  // `>>> 0` keeps the top bit from making the result negative.
  return ((key[at] << 24) | (key[at + 1] << 16) | (key[at + 2] << 8) | key[at + 3]) >>> 0;
}

/** Builds the log key of `offset` in keyspace `space`. */
export function logKey(space: LogSpace, topicId: number, partition: number, offset: bigint): Uint8Array {
  const key = new Uint8Array(RECORD_KEY_LENGTH);
  writeLogKey(key, space, topicId, partition, offset);
  return key;
}

/**
 * Writes the log key of `offset` in keyspace `space` into `key`
 * ({@link RECORD_KEY_LENGTH} bytes), so that a batch of writes can reuse one
 * buffer. Offsets below 2^53 (all of them, in practice) are split with
 * number arithmetic instead of bigint shifts, which would allocate.
 */
export function writeLogKey(key: Uint8Array, space: LogSpace, topicId: number, partition: number, offset: bigint): void {
  key[0] = space;
  writeU32(key, 1, topicId);
  writeU32(key, 5, partition);
  if (offset <= MAX_EXACT) {
    const n = Number(offset);
    writeU32(key, 9, Math.floor(n / TWO_POW_32));
    writeU32(key, 13, n >>> 0);
  } else {
    writeU32(key, 9, Number(offset >> 32n));
    writeU32(key, 13, Number(offset & 0xffff_ffffn));
  }
}

/** The offset a log key holds (a record's, or a pack's last). */
export function logKeyOffset(key: Uint8Array): bigint {
  const high = readU32(key, 9);
  const low = readU32(key, 13);
  // One bigint allocation in the common case instead of three.
  if (high < 0x20_0000) return BigInt(high * TWO_POW_32 + low);
  return (BigInt(high) << 32n) | BigInt(low);
}

function logPrefixKey(space: LogSpace, topicId: number, partition: number, fill: number): Uint8Array {
  const key = new Uint8Array(RECORD_KEY_LENGTH).fill(fill, 9);
  key[0] = space;
  writeU32(key, 1, topicId);
  writeU32(key, 5, partition);
  return key;
}

/** The log keys of a partition in `space` at offsets >= `from`. */
export function partitionLogRange(space: LogSpace, topicId: number, partition: number, from = 0n): KeyRange {
  return {
    gte: from === 0n ? logPrefixKey(space, topicId, partition, 0) : logKey(space, topicId, partition, from),
    // The largest possible key of the partition; using `lte` avoids computing
    // a successor that would overflow at partition 2^32 - 1.
    lte: logPrefixKey(space, topicId, partition, 0xff),
  };
}

/** The log keys in `space` of a topic, in all its partitions. */
export function topicLogRange(space: LogSpace, topicId: number): KeyRange {
  const gte = new Uint8Array(RECORD_KEY_LENGTH);
  gte[0] = space;
  writeU32(gte, 1, topicId);
  const lte = new Uint8Array(RECORD_KEY_LENGTH).fill(0xff, 5);
  lte[0] = space;
  writeU32(lte, 1, topicId);
  return { gte, lte };
}

/** Every key of the v1 log keyspace. */
export const RECORDS_V1_RANGE: PrefixRange = { gte: Uint8Array.of(RECORDS_V1), lt: Uint8Array.of(RECORDS_V1 + 1) };

/** The key of a group's state in one partition. */
export function groupStateKey(groupId: number, partition: number): Uint8Array {
  const key = new Uint8Array(9);
  key[0] = GROUP_STATE;
  writeU32(key, 1, groupId);
  writeU32(key, 5, partition);
  return key;
}

/** The group and partition of a group state key; `undefined` if malformed. */
export function parseGroupStateKey(key: Uint8Array): { groupId: number; partition: number } | undefined {
  if (key.length !== 9 || key[0] !== GROUP_STATE) return undefined;
  return { groupId: readU32(key, 1), partition: readU32(key, 5) };
}

/** Every group state key. */
export const GROUP_STATE_RANGE: PrefixRange = {
  gte: Uint8Array.of(GROUP_STATE),
  lt: Uint8Array.of(GROUP_STATE + 1),
};

/** The per-message dedupe entries earlier versions wrote. */
export const LEGACY_DEDUPE_RANGE: PrefixRange = { gte: Uint8Array.of(LEGACY_DEDUPE), lt: Uint8Array.of(LEGACY_DEDUPE + 1) };

/** The chunks of the dedupe snapshot earlier versions wrote into LevelDB. */
export const LEGACY_DEDUPE_SNAPSHOT_RANGE: PrefixRange = {
  gte: Uint8Array.of(LEGACY_DEDUPE_SNAPSHOT),
  lt: Uint8Array.of(LEGACY_DEDUPE_SNAPSHOT + 1),
};

/** Every metadata key. */
export const META_RANGE: PrefixRange = { gte: Uint8Array.of(META), lt: Uint8Array.of(META + 1) };

function metaIdKey(kind: number, id: number): Uint8Array {
  const key = new Uint8Array(6);
  key[0] = META;
  key[1] = kind;
  writeU32(key, 2, id);
  return key;
}

/** The key of a topic's metadata. */
export function topicMetaKey(topicId: number): Uint8Array {
  return metaIdKey(META_TOPIC, topicId);
}

/** The key of a group's metadata. */
export function groupMetaKey(groupId: number): Uint8Array {
  return metaIdKey(META_GROUP, groupId);
}

/** The key of a deleted topic's tombstone, which waits for the purge. */
export function deletedTopicKey(topicId: number): Uint8Array {
  return metaIdKey(META_DELETED_TOPIC, topicId);
}

/** The key of the next-ids counters. */
export const NEXT_IDS_KEY: Uint8Array = Uint8Array.of(META, META_NEXT_IDS);

/** The key of the format marker: `0x00 "format"`. */
export const FORMAT_KEY: Uint8Array = Uint8Array.of(META, ...new TextEncoder().encode("format"));

/**
 * The length (`f64`) of the dedupe snapshot file, written with it: a file
 * without it, or of another length, is not the snapshot the database knows.
 */
export const DEDUPE_SNAPSHOT_KEY: Uint8Array = Uint8Array.of(META, META_DEDUPE_SNAPSHOT);

/** What a metadata key names. */
export type MetaKey =
  | { readonly kind: "topic" | "group" | "deleted-topic"; readonly id: number }
  | { readonly kind: "next-ids" | "format" | "dedupe-snapshot" };

/** Decodes a metadata key; `undefined` when it is not one this version writes. */
export function parseMetaKey(key: Uint8Array): MetaKey | undefined {
  if (key[0] !== META) return undefined;
  if (key.length === 6) {
    switch (key[1]) {
      case META_TOPIC:
        return { kind: "topic", id: readU32(key, 2) };
      case META_GROUP:
        return { kind: "group", id: readU32(key, 2) };
      case META_DELETED_TOPIC:
        return { kind: "deleted-topic", id: readU32(key, 2) };
    }
  }
  if (keysEqual(key, NEXT_IDS_KEY)) return { kind: "next-ids" };
  if (keysEqual(key, FORMAT_KEY)) return { kind: "format" };
  if (keysEqual(key, DEDUPE_SNAPSHOT_KEY)) return { kind: "dedupe-snapshot" };
  return undefined;
}

function keysEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A key in hexadecimal, for messages and logs. */
export function keyHex(key: Uint8Array): string {
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString("hex");
}

/**
 * A key in no keyspace. Compacting the range from it to itself only flushes
 * LevelDB's memtable to a table file (nothing on disk overlaps it).
 */
export const UNUSED_KEY = Uint8Array.of(0xff);

/** The key of a partition's end floor. */
export function endFloorKey(topicId: number, partition: number): Uint8Array {
  const key = new Uint8Array(9);
  key[0] = END_FLOOR;
  writeU32(key, 1, topicId);
  writeU32(key, 5, partition);
  return key;
}

/** The end floor keys of every partition of a topic. */
export function topicEndFloorRange(topicId: number): KeyRange {
  return { gte: endFloorKey(topicId, 0), lte: endFloorKey(topicId, 0xffff_ffff) };
}

/** An offset as a big-endian u64 value. */
export function encodeOffset(offset: bigint): Uint8Array {
  const value = new Uint8Array(8);
  new DataView(value.buffer).setBigUint64(0, offset);
  return value;
}

/** The offset of a u64 value; `undefined` if malformed. */
export function decodeOffset(value: Uint8Array): bigint | undefined {
  if (value.byteLength !== 8) return undefined;
  return new DataView(value.buffer, value.byteOffset, 8).getBigUint64(0);
}
