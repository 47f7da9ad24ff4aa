/**
 * The in-memory index of message ids seen on each topic within its dedupe
 * window, bounded broker-wide. It answers the publish path without any read
 * and costs no write per message: the ids are in the stored records, and
 * the index is saved whole at shutdown (see `dedupe-restore.ts`).
 *
 * Entries are columns of typed arrays (about 53 bytes each with the hash
 * table), not a string and an object per id: a million ids cost ~45 MB and
 * nothing for the garbage collector to trace. Ids are kept as 96-bit hashes
 * (`id-hash.ts`).
 */

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
 */
export class DedupeIndex {
  // The ring, one column per field.
  #h0: Uint32Array;
  #h1: Uint32Array;
  #h2: Uint32Array;
  #topic: Uint32Array;
  #partition: Uint32Array;
  #offset: Float64Array;
  #time: Float64Array;
  #alive: Uint8Array;
  #capacity: number;
  #head = 0;
  /** Slots in use from the head, dead ones included. */
  #count = 0;
  /** Live entries. */
  #size = 0;
  /**
   * The hash table, two words per slot: ring slot + 1 of a live entry (0:
   * empty) and its h0, so that probes and deletions compare and re-home
   * without touching the ring (one cache miss per lookup, not four).
   */
  #table: Int32Array;
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
    this.#capacity = Math.min(MIN_CAPACITY, this.#maxCapacity);
    this.#h0 = new Uint32Array(this.#capacity);
    this.#h1 = new Uint32Array(this.#capacity);
    this.#h2 = new Uint32Array(this.#capacity);
    this.#topic = new Uint32Array(this.#capacity);
    this.#partition = new Uint32Array(this.#capacity);
    this.#offset = new Float64Array(this.#capacity);
    this.#time = new Float64Array(this.#capacity);
    this.#alive = new Uint8Array(this.#capacity);
    this.#table = new Int32Array(this.#capacity * 4);
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
    if (i < 0 || !(now < this.#time[i]! + windowMs)) return undefined;
    return { partition: this.#partition[i]!, offset: BigInt(this.#offset[i]!), timeMs: this.#time[i]! };
  }

  /**
   * Records the first publish of `messageId`, replacing an older entry of the
   * same id (the caller found none inside the window). Expired entries leave
   * the head first; beyond the cap, the oldest entries are evicted.
   */
  add(topicId: number, messageId: string, partition: number, offset: bigint, timeMs: number): void {
    this.#hashOf(topicId, messageId);
    this.#put(topicId, partition, Number(offset), timeMs);
  }

  /**
   * Adds an entry by its hash words, restoring a snapshot into an index that
   * holds none of its ids (so no lookup is needed). Expired entries and
   * entries of topics without a window are skipped.
   */
  restore(topicId: number, h0: number, h1: number, h2: number, partition: number, offset: number, timeMs: number, now: number): void {
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
      if (this.#alive[i] === 1) {
        if (now < this.#time[i]! + this.windowOf(this.#topic[i]!)) return;
        this.#kill(i);
      }
      this.#head = (i + 1) & mask;
      this.#count--;
    }
  }

  /** Forgets every entry of the topic (dedupe turned off, or the topic deleted). */
  clear(topicId: number): void {
    const mask = this.#capacity - 1;
    for (let k = 0; k < this.#count; k++) {
      const i = (this.#head + k) & mask;
      if (this.#alive[i] === 1 && this.#topic[i] === topicId) this.#kill(i);
    }
  }

  /** Visits the live entries, oldest first. */
  forEach(visit: DedupeVisitor): void {
    const mask = this.#capacity - 1;
    for (let k = 0; k < this.#count; k++) {
      const i = (this.#head + k) & mask;
      if (this.#alive[i] !== 1) continue;
      visit(this.#topic[i]!, this.#h0[i]!, this.#h1[i]!, this.#h2[i]!, this.#partition[i]!, this.#offset[i]!, this.#time[i]!);
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
    this.#makeRoom();
    const i = (this.#head + this.#count) & (this.#capacity - 1);
    this.#h0[i] = this.#hash[0]!;
    this.#h1[i] = this.#hash[1]!;
    this.#h2[i] = this.#hash[2]!;
    this.#topic[i] = topicId;
    this.#partition[i] = partition;
    this.#offset[i] = offset;
    this.#time[i] = timeMs;
    this.#alive[i] = 1;
    this.#count++;
    this.#size++;
    this.#insert(i);
    while (this.#size > this.maxEntries) this.#evictHead();
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
      const live = this.#alive[i] === 1;
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
    const h0 = this.#hash[0]!;
    const h1 = this.#hash[1]!;
    const h2 = this.#hash[2]!;
    const table = this.#table;
    const mask = (table.length >> 1) - 1;
    const tag = h0 | 0;
    for (let s = h0 & mask; ; s = (s + 1) & mask) {
      const v = table[2 * s]!;
      if (v === 0) return -1;
      if (table[2 * s + 1] !== tag) continue;
      const i = v - 1;
      if (this.#h1[i] === h1 && this.#h2[i] === h2 && this.#topic[i] === topicId) return i;
    }
  }

  #insert(i: number): void {
    const table = this.#table;
    const mask = (table.length >> 1) - 1;
    const h0 = this.#h0[i]!;
    let s = h0 & mask;
    while (table[2 * s] !== 0) s = (s + 1) & mask;
    table[2 * s] = i + 1;
    table[2 * s + 1] = h0 | 0;
  }

  /** Marks a live entry dead and takes it out of the table (backward-shift deletion). */
  #kill(i: number): void {
    this.#alive[i] = 0;
    this.#size--;
    const table = this.#table;
    const mask = (table.length >> 1) - 1;
    let hole = this.#h0[i]! & mask;
    while (table[2 * hole] !== i + 1) hole = (hole + 1) & mask;
    // Move later entries of the probe run back into the hole unless that
    // would put them before their home slot.
    for (let s = (hole + 1) & mask; table[2 * s] !== 0; s = (s + 1) & mask) {
      const home = table[2 * s + 1]! & mask;
      const between = hole <= s ? hole < home && home <= s : hole < home || home <= s;
      if (between) continue;
      table[2 * hole] = table[2 * s]!;
      table[2 * hole + 1] = table[2 * s + 1]!;
      hole = s;
    }
    table[2 * hole] = 0;
  }

  /** Copies the live entries, oldest first, into a ring of `capacity` and rebuilds the table. */
  #rebuild(capacity: number): void {
    const h0 = new Uint32Array(capacity);
    const h1 = new Uint32Array(capacity);
    const h2 = new Uint32Array(capacity);
    const topic = new Uint32Array(capacity);
    const partition = new Uint32Array(capacity);
    const offset = new Float64Array(capacity);
    const time = new Float64Array(capacity);
    const alive = new Uint8Array(capacity);
    const mask = this.#capacity - 1;
    let n = 0;
    for (let k = 0; k < this.#count; k++) {
      const i = (this.#head + k) & mask;
      if (this.#alive[i] !== 1) continue;
      h0[n] = this.#h0[i]!;
      h1[n] = this.#h1[i]!;
      h2[n] = this.#h2[i]!;
      topic[n] = this.#topic[i]!;
      partition[n] = this.#partition[i]!;
      offset[n] = this.#offset[i]!;
      time[n] = this.#time[i]!;
      alive[n] = 1;
      n++;
    }
    this.#h0 = h0;
    this.#h1 = h1;
    this.#h2 = h2;
    this.#topic = topic;
    this.#partition = partition;
    this.#offset = offset;
    this.#time = time;
    this.#alive = alive;
    this.#capacity = capacity;
    this.#head = 0;
    this.#count = n;
    this.#table = new Int32Array(capacity * 4);
    for (let i = 0; i < n; i++) this.#insert(i);
  }
}
