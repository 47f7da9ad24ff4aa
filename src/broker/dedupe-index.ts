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

import * as ring from "./dedupe-columns.js";
import { checkRingCapacity, DedupeTable } from "./dedupe-table.js";
import { hashMessageId } from "./id-hash.js";

// Module constants, not imports, in the publish path: V8 reads an import
// through its module cell on every use (~1.5x slower in a tight loop).
const DEAD = ring.DEAD;
const TIME_SPAN = ring.TIME_SPAN;
/** {@link DedupeIndex.add} refuses partitions past a u16 (`--max-partitions` is at most 65,536) and {@link DEAD}; `restore` skips them. */
const MAX_PARTITION = 0xffff;

/** Whether a slot can hold an entry of this topic and partition. */
function fits(topicId: number, partition: number): boolean {
  return topicId !== DEAD && partition <= MAX_PARTITION;
}

/** Where a message id was first stored, and when. */
export interface DedupeHit {
  readonly partition: number;
  readonly offset: bigint;
  /** Milliseconds since the epoch. */
  readonly timeMs: number;
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
 * The ring's layout and its whole-ring passes are in `dedupe-columns.ts`;
 * the publish path stays here, reading the columns from fields of its own.
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
    this.#maxCapacity = ring.ringCapacity(maxEntries);
    // Fails now, not at the growth that would reach a ring the table cannot pack.
    checkRingCapacity(this.#maxCapacity);
    this.#capacity = ring.MIN_CAPACITY;
    const cols = ring.newDedupeColumns(this.#capacity);
    ({ h0: this.#h0, h1: this.#h1, h2: this.#h2, topic: this.#topic, partition: this.#partition, offset: this.#offset, time: this.#time } = cols);
    this.#table = new DedupeTable(this.#capacity, cols.h0, cols.h1, cols.h2, cols.topic);
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
    const capacity = ring.ringCapacity(Math.min(this.#size + n, this.maxEntries));
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
  forEach(visit: ring.DedupeVisitor): void {
    ring.visitLive(this.#columns(), this.#head, this.#count, this.#epoch, visit);
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
   * file comment of `dedupe-columns.ts`).
   */
  #rebase(timeMs: number): void {
    const epoch = timeMs - TIME_SPAN / 2;
    ring.rebaseTimes(this.#columns(), this.#head, this.#count, this.#epoch, epoch, (i) => this.#kill(i));
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
    const cols = ring.newDedupeColumns(capacity);
    const n = ring.copyLive(this.#columns(), this.#head, this.#count, cols);
    ({ h0: this.#h0, h1: this.#h1, h2: this.#h2, topic: this.#topic, partition: this.#partition, offset: this.#offset, time: this.#time } = cols);
    this.#capacity = capacity;
    this.#head = 0;
    this.#count = n;
    this.#table = new DedupeTable(capacity, cols.h0, cols.h1, cols.h2, cols.topic);
    for (let i = 0; i < n; i++) this.#table.insert(i);
  }

  /** The current columns as one object, for the passes in `dedupe-columns.ts` (never on the publish path). */
  #columns(): ring.DedupeColumns {
    return { h0: this.#h0, h1: this.#h1, h2: this.#h2, topic: this.#topic, partition: this.#partition, offset: this.#offset, time: this.#time };
  }
}
