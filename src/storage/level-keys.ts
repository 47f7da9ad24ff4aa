/**
 * The binary key layout of {@link LevelStorage}. Every integer is big-endian
 * so that LevelDB's bytewise order is numeric order. Each concern owns the
 * keyspace under a one-byte prefix:
 *
 * - `0x00 kind ...`: metadata (topics, groups, id counters, tombstones of
 *   deleted topics, the format marker, the dedupe snapshot file's length);
 *   small and rarely written.
 * - `0x01 topicId:u32 partition:u32 offset:u64`: the log. A key of 17
 *   bytes holds one record (format v1 wrote only those; this version reads
 *   them and never writes them); a key of 18 bytes, the same followed by
 *   `0x00`, holds a pack: a run of records at consecutive offsets ending at
 *   `offset`, in one value (`record-pack.ts`). So the log sorts by offset,
 *   a v1 record before a pack ending at the same offset, and the entry
 *   holding offset `o` is the first at or after `o`'s 17-byte key. The log
 *   sorts below every key written beside it (group state, end floors): a
 *   flushed table then never spans older log tables, which LevelDB moves
 *   down the levels without rewriting.
 * - `0x02 groupId:u32 partition:u32`: a group's state in one partition.
 * - `0x03 ...`: dedupe entries of earlier versions, one per message; deleted
 *   at start (see `LEGACY_DEDUPE_RANGE`).
 * - `0x04 topicId:u32 partition:u32`: the partition's end floor (`u64`), set
 *   when records are deleted, so that an emptied log keeps its offsets.
 * - `0x05 ...`: the dedupe snapshot of an earlier version, in chunks;
 *   deleted at start (see `LEGACY_DEDUPE_SNAPSHOT_RANGE`). The snapshot is now
 *   a file (`dedupe-snapshot-file.ts`) whose length is kept in the metadata.
 * - `0xff`: never written; an empty range to compact (see {@link UNUSED_KEY}).
 *
 * Callers validate ids and offsets before building keys (see `validate.ts`).
 */

const META = 0x00;
const LOG = 0x01;
const GROUP_STATE = 0x02;
const LEGACY_DEDUPE = 0x03;
const END_FLOOR = 0x04;
const LEGACY_DEDUPE_SNAPSHOT = 0x05;

const META_TOPIC = 0x01;
const META_GROUP = 0x02;
const META_NEXT_IDS = 0x03;
const META_DELETED_TOPIC = 0x04;
const META_DEDUPE_SNAPSHOT = 0x05;

/** Length of a record's log key. */
export const RECORD_KEY_LENGTH = 17;
/** Length of a pack's log key. */
export const PACK_KEY_LENGTH = 18;

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

/** Builds the 17-byte log key of the record at `offset` (v1), which sorts before every entry holding a later offset. */
export function recordKey(topicId: number, partition: number, offset: bigint): Uint8Array {
  const key = new Uint8Array(RECORD_KEY_LENGTH);
  writeLogKey(key, topicId, partition, offset);
  return key;
}

/** Builds the 18-byte log key of the pack ending at `last`. */
export function packKey(topicId: number, partition: number, last: bigint): Uint8Array {
  const key = new Uint8Array(PACK_KEY_LENGTH);
  writeLogKey(key, topicId, partition, last);
  return key;
}

/** Whether a log key is a pack's (else a v1 record's). */
export function isPackKey(key: Uint8Array): boolean {
  return key.length === PACK_KEY_LENGTH;
}

/**
 * Writes the log key of `offset` into the first 17 bytes of `key` (a
 * pack's 18th byte stays 0), so that a batch of writes can reuse one
 * buffer. Offsets below 2^53 (all of them, in practice) are split with
 * number arithmetic instead of bigint shifts, which would allocate.
 */
export function writeLogKey(key: Uint8Array, topicId: number, partition: number, offset: bigint): void {
  key[0] = LOG;
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

/** Names a log entry in messages: its topic, partition and (last) offset. */
export function logKeyName(key: Uint8Array): string {
  return `topic ${readU32(key, 1)} partition ${readU32(key, 5)} offsets up to ${logKeyOffset(key)}`;
}

/** The largest possible log key of the topic, or of one of its partitions. */
function logCeilingKey(topicId: number, partition: number | undefined): Uint8Array {
  const key = new Uint8Array(PACK_KEY_LENGTH).fill(0xff);
  key[0] = LOG;
  writeU32(key, 1, topicId);
  if (partition !== undefined) writeU32(key, 5, partition);
  return key;
}

/** The log keys of a partition holding offsets >= `from` (and a pack that ends at or after `from`). */
export function partitionLogRange(topicId: number, partition: number, from = 0n): KeyRange {
  // The largest possible key of the partition as the upper end, with `lte`:
  // a successor would overflow at partition 2^32 - 1.
  return { gte: recordKey(topicId, partition, from), lte: logCeilingKey(topicId, partition) };
}

/** The log keys of a topic, in all its partitions. */
export function topicLogRange(topicId: number): KeyRange {
  return { gte: recordKey(topicId, 0, 0n), lte: logCeilingKey(topicId, undefined) };
}

/** The smallest key after `key`. */
export function keyAfter(key: Uint8Array): Uint8Array {
  const next = new Uint8Array(key.length + 1);
  next.set(key);
  return next;
}

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
