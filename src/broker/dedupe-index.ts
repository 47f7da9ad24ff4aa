/**
 * The in-memory index of message ids seen on each topic within its dedupe
 * window, bounded broker-wide. It answers the publish path without any read
 * and costs no write per message: the ids are in the stored records, and
 * the index is saved whole at shutdown (see `dedupe-restore.ts`).
 *
 * Entries are columns of typed arrays (40 bytes per ring slot with the hash
 * table), not a string and an object per id: a million ids (a ring of 2^20)
 * cost ~42 MB and nothing for the garbage collector to trace. Ids are kept as
 * 96-bit hashes (`id-hash.ts`).
 */

import { checkRingCapacity, DedupeTable } from "./dedupe-table.js";
import { hashMessageId } from "./id-hash.js";

/** Where a message id was first stored, and when. */
export interface DedupeHit {
  readonly partition: number;
  readonly offset: bigint;
  /** Milliseconds since the epoch. */
  readonly timeMs: number;
}

/** Visits one live entry (see {@link DedupeIndex.forEach}). */
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
const MIN_CAPACITY = 1024;

/**
 * The topic of a dead slot (there is no alive column). The broker's topic
 * ids are u32 counted up from 1 (`nextTopicId` in `broker.ts`) and never get
 * this far; the index takes any other u32, 0 included.
 * {@link DedupeIndex.add} refuses it, and partitions past a u16
 * (`--max-partitions` is at most 65,536); {@link DedupeIndex.restore} skips
 * them.
 */
const DEAD = 0xffff_ffff;
const MAX_PARTITION = 0xffff;

/** Times are kept as u32 ms from an epoch: a span of 2^32 ms (~49.7 days). */
const TIME_SPAN = 2 ** 32;

/** Whether a slot can hold an entry of this topic and partition. */
function fits(topicId: number, partition: number): boolean {
  return topicId !== DEAD && partition <= MAX_PARTITION;
}

function nextPowerOfTwo(n: number): number {
  let p = MIN_CAPACITY;
  while (p < n) p *= 2;
  return p;
}

/**
 * Message ids per topic, each with the position of its first publish. An
 * entry counts while `now < timeMs + window`. Entries sit in a ring in the
 * order they were added (time order unless the clock stepped back) and leave
 * from its head once expired under their topic's current window (on
 * {@link add} and {@link expire}). Past `maxEntries` live entries
 * broker-wide, the oldest are evicted early: a duplicate of an evicted id is
 * then stored again. An open-addressing hash table (linear probing) maps
 * hashes to ring slots. An entry of a topic with a longer window holds back
 * expired entries of other topics behind it until it expires or the cap
 * evicts it: they cost memory, never a wrong answer (lookups check times).
 *
 * Per ring slot: h0, h1, h2, topic (u32 each; topic {@link DEAD} marks a dead
 * slot), partition (u16), offset (f64), time (u32 ms from an epoch), and
 * two table slots of a u32 and a byte each (`dedupe-table.ts`): 40 bytes. Times are whole ms. The
 * epoch is set at the first entry to 2^31 ms (~24.9 days) before it, and
 * moved the same way when a time to store falls outside the 2^32 ms it can
 * express; live entries then outside it are dropped. They are over ~24.9
 * days older than the new time (or as far ahead, after the clock stepped
 * back that much), so expired under any window of at most a day
 * (`MAX_DEDUPE_WINDOW_MS`); lookups compare the absolute times.
 */
export class DedupeIndex {
  // The ring, one column per field.
  #h0: Uint32Array;
  #h1: Uint32Array;
  #h2: Uint32Array;
  #topic: Uint32Array;
  #partition: Uint16Array;
  #offset: Float64Array;
  /** Ms since {@link #epoch}. */
  #time: Uint32Array;
  /** What #time counts from (ms since the Unix epoch); NaN until the first entry. */
  #epoch = NaN;
  #capacity: number;
  #head = 0;
  /** Slots in use from the head, dead ones included. */
  #count = 0;
  /** Live entries. */
  #size = 0;
  /** Ring slots of the live entries by hash. */
  #table: DedupeTable;
  readonly #maxCapacity: number;
  #full = false;
  /** The hash of the id being looked up or added. */
  readonly #hash = new Uint32Array(3);
  /** The topic and id #hash was computed for by the last {@link find}: the publish path adds right after a miss. */
  #hashedTopic = -1;
  #hashedId: string | undefined;

  /**
   * @param maxEntries the most live entries broker-wide.
   * @param windowOf a topic's current dedupe window in ms (0: off or deleted).
   * @param onFull called once, the first time an entry is evicted early.
   */
  constructor(
    readonly maxEntries: number,
    private readonly windowOf: (topicId: number) => number,
    private readonly onFull: () => void,
  ) {
    this.#maxCapacity = nextPowerOfTwo(maxEntries);
    // Fails now, not at the growth that would reach a ring the table cannot pack.
    checkRingCapacity(this.#maxCapacity);
    this.#capacity = MIN_CAPACITY;
    this.#h0 = new Uint32Array(this.#capacity);
    this.#h1 = new Uint32Array(this.#capacity);
    this.#h2 = new Uint32Array(this.#capacity);
    this.#topic = new Uint32Array(this.#capacity);
    this.#partition = new Uint16Array(this.#capacity);
    this.#offset = new Float64Array(this.#capacity);
    this.#time = new Uint32Array(this.#capacity);
    this.#table = new DedupeTable(this.#capacity, this.#h0, this.#h1, this.#h2, this.#topic);
  }

  /** Live entries broker-wide. */
  get size(): number {
    return this.#size;
  }

  /** The topic's live entries (for tests and metrics; walks the ring). */
  topicSize(topicId: number): number {
    let n = 0;
    this.forEach((t) => {
      if (t === topicId) n++;
    });
    return n;
  }

  /** Where `messageId` was first stored on the topic, if that was less than `windowMs` before `now`. */
  find(topicId: number, messageId: string, windowMs: number, now: number): DedupeHit | undefined {
    this.#hashOf(topicId, messageId);
    const i = this.#lookup(topicId);
    if (i < 0) return undefined;
    const timeMs = this.#epoch + this.#time[i]!;
    if (!(now < timeMs + windowMs)) return undefined;
    return { partition: this.#partition[i]!, offset: BigInt(this.#offset[i]!), timeMs };
  }

  /**
   * Records the first publish of `messageId`, replacing an older entry of the
   * same id (the caller found none inside the window). Expired entries leave
   * the head first; beyond the cap, the oldest entries are evicted.
   */
  add(topicId: number, messageId: string, partition: number, offset: bigint, timeMs: number): void {
    // What a slot cannot hold is a bug in the caller, not a message the broker can get.
    if (!fits(topicId, partition)) throw new RangeError(`dedupe entry out of range: topic ${topicId}, partition ${partition}`);
    this.#hashOf(topicId, messageId);
    this.#put(topicId, partition, Number(offset), timeMs);
  }

  /**
   * Adds an entry by its hash words, restoring a snapshot into an index that
   * holds none of its ids (so no lookup is needed). Expired entries,
   * entries of topics without a window and entries the index could not have
   * saved (topic {@link DEAD}, partition past a u16) are skipped.
   */
  restore(topicId: number, h0: number, h1: number, h2: number, partition: number, offset: number, timeMs: number, now: number): void {
    if (!fits(topicId, partition)) return;
    if (!(now < timeMs + this.windowOf(topicId))) return;
    this.#hashedId = undefined;
    this.#hash[0] = h0;
    this.#hash[1] = h1;
    this.#hash[2] = h2;
    this.#append(topicId, partition, offset, timeMs);
  }

  /** Sizes the ring for `n` more entries at once (before a restore), instead of doubling step by step. */
  reserve(n: number): void {
    const capacity = nextPowerOfTwo(Math.min(this.#size + n, this.maxEntries));
    if (capacity > this.#capacity) this.#rebuild(capacity);
  }

  /** Forgets the entry of an id whose write failed, unless it now points elsewhere. */
  withdraw(topicId: number, messageId: string, partition: number, offset: bigint): void {
    this.#hashOf(topicId, messageId);
    const i = this.#lookup(topicId);
    if (i >= 0 && this.#partition[i] === partition && this.#offset[i] === Number(offset)) this.#kill(i);
  }

  /** Forgets entries at the head that expired by `now` under their topic's window. */
  expire(now: number): void {
    const mask = this.#capacity - 1;
    while (this.#count > 0) {
      const i = this.#head;
      const topicId = this.#topic[i]!;
      if (topicId !== DEAD) {
        if (now < this.#epoch + this.#time[i]! + this.windowOf(topicId)) return;
        this.#kill(i);
      }
      this.#head = (i + 1) & mask;
      this.#count--;
    }
  }

  /** Forgets every entry of the topic (dedupe turned off, or the topic deleted). */
  clear(topicId: number): void {
    if (topicId === DEAD) return;
    const mask = this.#capacity - 1;
    for (let k = 0; k < this.#count; k++) {
      const i = (this.#head + k) & mask;
      if (this.#topic[i] === topicId) this.#kill(i);
    }
  }

  /** Visits the live entries, oldest first. */
  forEach(visit: DedupeVisitor): void {
    const mask = this.#capacity - 1;
    for (let k = 0; k < this.#count; k++) {
      const i = (this.#head + k) & mask;
      const topicId = this.#topic[i]!;
      if (topicId === DEAD) continue;
      visit(topicId, this.#h0[i]!, this.#h1[i]!, this.#h2[i]!, this.#partition[i]!, this.#offset[i]!, this.#epoch + this.#time[i]!);
    }
  }

  /** Puts the hash of the id in #hash, unless it is there already. */
  #hashOf(topicId: number, messageId: string): void {
    if (messageId === this.#hashedId && topicId === this.#hashedTopic) return;
    hashMessageId(topicId, messageId, this.#hash);
    this.#hashedTopic = topicId;
    this.#hashedId = messageId;
  }

  /** Adds the entry whose hash is in #hash, replacing an older one of the same id. */
  #put(topicId: number, partition: number, offset: number, timeMs: number): void {
    this.expire(timeMs);
    const old = this.#lookup(topicId);
    if (old >= 0) this.#kill(old);
    this.#append(topicId, partition, offset, timeMs);
  }

  /** Appends the entry whose hash is in #hash, which is not in the table. */
  #append(topicId: number, partition: number, offset: number, timeMs: number): void {
    if (!(timeMs - this.#epoch >= 0 && timeMs - this.#epoch < TIME_SPAN)) this.#rebase(timeMs);
    this.#makeRoom();
    const i = (this.#head + this.#count) & (this.#capacity - 1);
    this.#h0[i] = this.#hash[0]!;
    this.#h1[i] = this.#hash[1]!;
    this.#h2[i] = this.#hash[2]!;
    this.#topic[i] = topicId;
    this.#partition[i] = partition;
    this.#offset[i] = offset;
    this.#time[i] = timeMs - this.#epoch;
    this.#count++;
    this.#size++;
    this.#table.insert(i);
    while (this.#size > this.maxEntries) this.#evictHead();
  }

  /**
   * Moves the epoch to 2^31 ms before `timeMs`, re-expressing the live
   * entries' times from it and dropping those it cannot express (see the
   * class comment).
   */
  #rebase(timeMs: number): void {
    const epoch = timeMs - TIME_SPAN / 2;
    const mask = this.#capacity - 1;
    for (let k = 0; k < this.#count; k++) {
      const i = (this.#head + k) & mask;
      if (this.#topic[i] === DEAD) continue;
      const t = this.#epoch + this.#time[i]! - epoch;
      if (t >= 0 && t < TIME_SPAN) this.#time[i] = t;
      else this.#kill(i);
    }
    this.#epoch = epoch;
  }

  /** Ensures the ring has a free slot: grow, squeeze out dead slots, or evict. */
  #makeRoom(): void {
    if (this.#count < this.#capacity) return;
    if (this.#capacity < this.#maxCapacity) this.#rebuild(this.#capacity * 2);
    // Squeeze only when it frees enough that the next squeeze is far away.
    else if (this.#count - this.#size >= this.#capacity / 8) this.#rebuild(this.#capacity);
    else this.#evictHead();
  }

  /** Drops the head entry, live or not, warning the first time a live one goes early. */
  #evictHead(): void {
    while (this.#count > 0) {
      const i = this.#head;
      const live = this.#topic[i] !== DEAD;
      if (live) {
        if (!this.#full) {
          this.#full = true;
          this.onFull();
        }
        this.#kill(i);
      }
      this.#head = (i + 1) & (this.#capacity - 1);
      this.#count--;
      if (live) return;
    }
  }

  /** The ring slot of the live entry with #hash on the topic, or -1. */
  #lookup(topicId: number): number {
    return this.#table.find(this.#hash[0]!, this.#hash[1]!, this.#hash[2]!, topicId);
  }

  /** Marks a live entry dead and takes it out of the table. */
  #kill(i: number): void {
    this.#table.remove(i);
    this.#topic[i] = DEAD;
    this.#size--;
  }

  /** Copies the live entries, oldest first, into a ring of `capacity` and rebuilds the table. */
  #rebuild(capacity: number): void {
    const h0 = new Uint32Array(capacity);
    const h1 = new Uint32Array(capacity);
    const h2 = new Uint32Array(capacity);
    const topic = new Uint32Array(capacity);
    const partition = new Uint16Array(capacity);
    const offset = new Float64Array(capacity);
    const time = new Uint32Array(capacity);
    const mask = this.#capacity - 1;
    let n = 0;
    for (let k = 0; k < this.#count; k++) {
      const i = (this.#head + k) & mask;
      if (this.#topic[i] === DEAD) continue;
      h0[n] = this.#h0[i]!;
      h1[n] = this.#h1[i]!;
      h2[n] = this.#h2[i]!;
      topic[n] = this.#topic[i]!;
      partition[n] = this.#partition[i]!;
      offset[n] = this.#offset[i]!;
      time[n] = this.#time[i]!;
      n++;
    }
    this.#h0 = h0;
    this.#h1 = h1;
    this.#h2 = h2;
    this.#topic = topic;
    this.#partition = partition;
    this.#offset = offset;
    this.#time = time;
    this.#capacity = capacity;
    this.#head = 0;
    this.#count = n;
    this.#table = new DedupeTable(capacity, h0, h1, h2, topic);
    for (let i = 0; i < n; i++) this.#table.insert(i);
  }
}
