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

import type { DedupeVisitor } from "./dedupe-columns.js";
import type { DedupeIndex } from "./dedupe-index.js";
import type { Topic } from "./topic.js";

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

/**
 * The ends a snapshot covers: for every partition of `topics`, its next
 * offset (`PartitionLog.next`). Records of batches already queued count as
 * covered, so the snapshot must be written after them.
 */
export function coveredEnds(topics: Iterable<Topic>): CoveredEnd[] {
  const ends: CoveredEnd[] = [];
  for (const t of topics) {
    for (const log of t.partitions) ends.push({ topicId: t.meta.id, partition: log.partition, end: log.next });
  }
  return ends;
}

/** What {@link readDedupeSnapshot} finds, in the order it finds it. */
export interface DedupeSnapshotSink {
  /** The covered end per partition (keyed by {@link partitionKey}) and how many entries follow; once, before any entry. */
  start(ends: ReadonlyMap<string, bigint>, entries: number): void;
  /** One entry; oldest first. */
  entry: DedupeVisitor;
}

/** How {@link readDedupeSnapshot} ended. */
export type SnapshotReadResult = "none" | "invalid" | "complete";

/** The key of a partition in the covered ends ({@link DedupeSnapshotSink.start}). */
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

/**
 * Decodes a snapshot from its bytes in pieces of any size, in order (as
 * storage yields them), without ever holding it whole: a full index's
 * snapshot is tens of MB. Resolves with `none` when there were no bytes,
 * `invalid` when they are not a snapshot this version wrote, are cut short or
 * run on (the sink may have seen part of it by then, which the caller must
 * drop), and `complete` otherwise. Rejects when `pieces` does.
 */
export async function readDedupeSnapshot(pieces: AsyncIterable<Uint8Array>, sink: DedupeSnapshotSink): Promise<SnapshotReadResult> {
  const parser = new SnapshotParser(sink);
  let any = false;
  for await (const piece of pieces) {
    any = true;
    if (!parser.push(piece)) return "invalid";
  }
  if (!any) return "none";
  return parser.done ? "complete" : "invalid";
}

/** The parts of a snapshot, each of a fixed size, in order. */
const HEADER = 0;
const PARTITION = 1;
const COUNT = 2;
const ENTRY = 3;
const DONE = 4;

/**
 * Cuts the pieces into parts (header, partitions, entry count, entries),
 * decoding each in place and copying only the few bytes of a part that
 * straddles two pieces.
 */
class SnapshotParser {
  #part = HEADER;
  #size = 8;
  /** Parts of the current kind still to come. */
  #left = 1;
  readonly #ends = new Map<string, bigint>();
  /** The start of a part cut by a piece's end. */
  readonly #carry = new Uint8Array(ENTRY_BYTES);
  readonly #carryView = new DataView(this.#carry.buffer);
  #carried = 0;

  constructor(private readonly sink: DedupeSnapshotSink) {}

  get done(): boolean {
    return this.#part === DONE;
  }

  /** Takes the next piece; false when the bytes are not a snapshot (so far). */
  push(piece: Uint8Array): boolean {
    const v = new DataView(piece.buffer, piece.byteOffset, piece.byteLength);
    let p = 0;
    while (p < piece.byteLength) {
      if (this.#part === DONE) return false;
      const need = this.#size - this.#carried;
      if (this.#carried > 0 || piece.byteLength - p < need) {
        const n = Math.min(need, piece.byteLength - p);
        this.#carry.set(piece.subarray(p, p + n), this.#carried);
        this.#carried += n;
        p += n;
        if (this.#carried < this.#size) return true;
        this.#carried = 0;
        if (!this.#decode(this.#carryView, 0)) return false;
      } else {
        if (!this.#decode(v, p)) return false;
        p += need;
      }
    }
    return true;
  }

  /** Decodes the part at `q`; false when it is not what a snapshot holds there. */
  #decode(v: DataView, q: number): boolean {
    switch (this.#part) {
      case HEADER: {
        if (v.getUint32(q, true) !== MAGIC) return false;
        const partitions = v.getUint32(q + 4, true);
        if (partitions > 0) this.#next(PARTITION, PARTITION_BYTES, partitions);
        else this.#next(COUNT, 4, 1);
        return true;
      }
      case PARTITION:
        this.#ends.set(partitionKey(v.getUint32(q, true), v.getUint32(q + 4, true)), BigInt(v.getFloat64(q + 8, true)));
        if (--this.#left === 0) this.#next(COUNT, 4, 1);
        return true;
      case COUNT: {
        const entries = v.getUint32(q, true);
        this.sink.start(this.#ends, entries);
        if (entries > 0) this.#next(ENTRY, ENTRY_BYTES, entries);
        else this.#part = DONE;
        return true;
      }
      case ENTRY:
        this.sink.entry(
          v.getUint32(q, true),
          v.getUint32(q + 4, true),
          v.getUint32(q + 8, true),
          v.getUint32(q + 12, true),
          v.getUint32(q + 16, true),
          v.getFloat64(q + 20, true),
          v.getFloat64(q + 28, true),
        );
        if (--this.#left === 0) this.#part = DONE;
        return true;
    }
    return false;
  }

  #next(part: number, size: number, count: number): void {
    this.#part = part;
    this.#size = size;
    this.#left = count;
  }
}
