/**
 * The saved form of the {@link DedupeIndex}: its live entries plus, for every
 * partition, the end offset the entries cover. Written in the same storage
 * batch as the records it covers, so a loaded snapshot is never ahead of the
 * log; records past a partition's covered end are re-read at start.
 *
 * Layout (little-endian): `magic:u32 partitions:u32` then per partition
 * `topicId:u32 partition:u32 end:f64`, then `entries:u32` and per entry
 * `topicId:u32 h0:u32 h1:u32 h2:u32 partition:u32 offset:f64 timeMs:f64`.
 */

import type { DedupeIndex, DedupeVisitor } from "./dedupe-index.js";

/** "SDD1": bumped whenever the layout or the id hash changes. */
const MAGIC = 0x3144_4453;
const PARTITION_BYTES = 16;
const ENTRY_BYTES = 36;

/** The end offset a snapshot covers in one partition. */
export interface CoveredEnd {
  readonly topicId: number;
  readonly partition: number;
  readonly end: bigint;
}

/** A decoded snapshot. */
export interface DedupeSnapshot {
  /** Covered end per partition, keyed `topicId/partition`. */
  readonly ends: ReadonlyMap<string, bigint>;
  /** How many entries it holds. */
  readonly entries: number;
  /** Visits the entries, oldest first. */
  forEach(visit: DedupeVisitor): void;
}

/** The key of a partition in {@link DedupeSnapshot.ends}. */
export function partitionKey(topicId: number, partition: number): string {
  return `${topicId}/${partition}`;
}

/** Encodes the live entries of `index` and the ends they cover. */
export function encodeDedupeSnapshot(index: DedupeIndex, ends: readonly CoveredEnd[]): Uint8Array {
  const bytes = new Uint8Array(8 + ends.length * PARTITION_BYTES + 4 + index.size * ENTRY_BYTES);
  const v = new DataView(bytes.buffer);
  v.setUint32(0, MAGIC, true);
  v.setUint32(4, ends.length, true);
  let p = 8;
  for (const e of ends) {
    v.setUint32(p, e.topicId, true);
    v.setUint32(p + 4, e.partition, true);
    v.setFloat64(p + 8, Number(e.end), true);
    p += PARTITION_BYTES;
  }
  v.setUint32(p, index.size, true);
  p += 4;
  index.forEach((topicId, h0, h1, h2, partition, offset, timeMs) => {
    v.setUint32(p, topicId, true);
    v.setUint32(p + 4, h0, true);
    v.setUint32(p + 8, h1, true);
    v.setUint32(p + 12, h2, true);
    v.setUint32(p + 16, partition, true);
    v.setFloat64(p + 20, offset, true);
    v.setFloat64(p + 28, timeMs, true);
    p += ENTRY_BYTES;
  });
  return bytes;
}

/** Decodes a snapshot; `undefined` when it is not one this version wrote (or is cut short). */
export function decodeDedupeSnapshot(bytes: Uint8Array): DedupeSnapshot | undefined {
  if (bytes.byteLength < 12) return undefined;
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (v.getUint32(0, true) !== MAGIC) return undefined;
  const partitions = v.getUint32(4, true);
  let p = 8;
  if (bytes.byteLength < p + partitions * PARTITION_BYTES + 4) return undefined;
  const ends = new Map<string, bigint>();
  for (let k = 0; k < partitions; k++, p += PARTITION_BYTES) {
    ends.set(partitionKey(v.getUint32(p, true), v.getUint32(p + 4, true)), BigInt(v.getFloat64(p + 8, true)));
  }
  const entries = v.getUint32(p, true);
  p += 4;
  if (bytes.byteLength !== p + entries * ENTRY_BYTES) return undefined;
  const first = p;
  return {
    ends,
    entries,
    forEach(visit) {
      for (let q = first; q < bytes.byteLength; q += ENTRY_BYTES) {
        visit(
          v.getUint32(q, true),
          v.getUint32(q + 4, true),
          v.getUint32(q + 8, true),
          v.getUint32(q + 12, true),
          v.getUint32(q + 16, true),
          v.getFloat64(q + 20, true),
          v.getFloat64(q + 28, true),
        );
      }
    },
  };
}
