/**
 * The ring of the dedupe index laid out as columns of typed arrays, and the
 * passes over the whole ring that only growth, a clock jump or a snapshot
 * need. The publish path (`dedupe-index.ts`) reads and writes the columns
 * itself; what is here runs rarely, so it may allocate and call back.
 *
 * Per ring slot: h0, h1, h2, topic (u32 each; topic {@link DEAD} marks a dead
 * slot), partition (u16), offset (f64), time (u32 ms from an epoch), and
 * two table slots of a u32 and a byte each (`dedupe-table.ts`): 40 bytes.
 * Times are whole ms. The epoch is set at the first entry to 2^31 ms (~24.9
 * days) before it, and moved the same way when a time to store falls outside
 * the 2^32 ms it can express; live entries then outside it are dropped. They
 * are over ~24.9 days older than the new time (or as far ahead, after the
 * clock stepped back that much), so expired under any window of at most a
 * day (`MAX_DEDUPE_WINDOW_MS`); lookups compare the absolute times.
 */

/** Visits one live entry (see `DedupeIndex.forEach`). */
export type DedupeVisitor = (
  topicId: number,
  h0: number,
  h1: number,
  h2: number,
  partition: number,
  offset: number,
  timeMs: number,
) => void;

/** The smallest ring; it doubles as entries arrive, up to the cap. */
export const MIN_CAPACITY = 1024;

/**
 * The topic of a dead slot (there is no alive column). The broker's topic
 * ids are u32 counted up from 1 (`nextTopicId` in `broker.ts`) and never get
 * this far; the index takes any other u32, 0 included.
 */
export const DEAD = 0xffff_ffff;

/** Times are kept as u32 ms from an epoch: a span of 2^32 ms (~49.7 days). */
export const TIME_SPAN = 2 ** 32;

/** The ring capacity for `n` entries: a power of two, at least {@link MIN_CAPACITY}. */
export function ringCapacity(n: number): number {
  let p = MIN_CAPACITY;
  while (p < n) p *= 2;
  return p;
}

/** The ring's columns: slot `i` of the ring is index `i` of each, and all have the ring's capacity. */
export interface DedupeColumns {
  readonly h0: Uint32Array;
  readonly h1: Uint32Array;
  readonly h2: Uint32Array;
  readonly topic: Uint32Array;
  readonly partition: Uint16Array;
  readonly offset: Float64Array;
  /** Ms since the index's epoch. */
  readonly time: Uint32Array;
}

/** Zeroed columns for a ring of `capacity` slots. */
export function newDedupeColumns(capacity: number): DedupeColumns {
  return {
    h0: new Uint32Array(capacity),
    h1: new Uint32Array(capacity),
    h2: new Uint32Array(capacity),
    topic: new Uint32Array(capacity),
    partition: new Uint16Array(capacity),
    offset: new Float64Array(capacity),
    time: new Uint32Array(capacity),
  };
}

/**
 * Copies the live entries of the ring `from` (`count` slots from `head`),
 * oldest first, to the slots of `to` from 0; returns how many. `to` must
 * have room for them.
 */
export function copyLive(from: DedupeColumns, head: number, count: number, to: DedupeColumns): number {
  const mask = from.topic.length - 1;
  let n = 0;
  for (let k = 0; k < count; k++) {
    const i = (head + k) & mask;
    if (from.topic[i] === DEAD) continue;
    to.h0[n] = from.h0[i]!;
    to.h1[n] = from.h1[i]!;
    to.h2[n] = from.h2[i]!;
    to.topic[n] = from.topic[i]!;
    to.partition[n] = from.partition[i]!;
    to.offset[n] = from.offset[i]!;
    to.time[n] = from.time[i]!;
    n++;
  }
  return n;
}

/**
 * Re-expresses the times of the live entries (`count` slots from `head`)
 * from epoch `from` to epoch `to`, and calls `drop` with the slot of each
 * entry whose time the new epoch cannot express (see the file comment).
 */
export function rebaseTimes(ring: DedupeColumns, head: number, count: number, from: number, to: number, drop: (slot: number) => void): void {
  const mask = ring.topic.length - 1;
  for (let k = 0; k < count; k++) {
    const i = (head + k) & mask;
    if (ring.topic[i] === DEAD) continue;
    const t = from + ring.time[i]! - to;
    if (t >= 0 && t < TIME_SPAN) ring.time[i] = t;
    else drop(i);
  }
}

/** Visits the live entries (`count` slots from `head`), oldest first, with their times counted from `epoch`. */
export function visitLive(ring: DedupeColumns, head: number, count: number, epoch: number, visit: DedupeVisitor): void {
  const mask = ring.topic.length - 1;
  for (let k = 0; k < count; k++) {
    const i = (head + k) & mask;
    const topicId = ring.topic[i]!;
    if (topicId === DEAD) continue;
    visit(topicId, ring.h0[i]!, ring.h1[i]!, ring.h2[i]!, ring.partition[i]!, ring.offset[i]!, epoch + ring.time[i]!);
  }
}
