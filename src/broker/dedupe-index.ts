/**
 * The in-memory index of message ids seen on each topic within its dedupe
 * window, bounded broker-wide. The durable copy lives in storage (written in
 * the same batch as the record); this index answers the publish path without
 * any read.
 */

import type { Storage, TopicMeta } from "../storage/storage.js";

/** Where a message id was first stored, and when. */
export interface DedupeEntry {
  readonly topicId: number;
  readonly messageId: string;
  readonly partition: number;
  readonly offset: bigint;
  /** Milliseconds since the epoch. */
  readonly timeMs: number;
  /** False once expired, evicted, replaced or withdrawn. */
  live: boolean;
}

/** One topic's entries, and what its stored entries may still hold. */
interface TopicEntries {
  readonly byId: Map<string, DedupeEntry>;
  /** In insertion order, which is time order unless the clock stepped back. */
  readonly queue: Fifo<DedupeEntry>;
  /** The newest time added. */
  newest: number;
  /** The oldest time that may still be in storage; undefined when none. */
  storedFrom: number | undefined;
}

/**
 * A first-in first-out queue that drops its head in O(1): an array read from
 * a moving head, copied down only once the dead prefix is half of it.
 */
class Fifo<T> {
  #items: (T | undefined)[] = [];
  #head = 0;

  get length(): number {
    return this.#items.length - this.#head;
  }

  push(item: T): void {
    this.#items.push(item);
  }

  peek(): T | undefined {
    return this.#items[this.#head];
  }

  shift(): T | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head++] = undefined;
    if (this.#head >= 1024 && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }

  /** Keeps only the items `keep` accepts, in order. */
  retain(keep: (item: T) => boolean): void {
    const kept: T[] = [];
    for (let i = this.#head; i < this.#items.length; i++) {
      const item = this.#items[i] as T;
      if (keep(item)) kept.push(item);
    }
    this.#items = kept;
    this.#head = 0;
  }
}

/**
 * Message ids per topic, each with the position of its first publish. An
 * entry counts while `now < timeMs + window`; expired entries leave from the
 * head of their topic's queue as new ones arrive or when {@link expire} runs.
 * Past `maxEntries` live entries broker-wide, the oldest are evicted early:
 * a duplicate of an evicted id is then stored again.
 */
export class DedupeIndex {
  readonly #topics = new Map<number, TopicEntries>();
  /** Every entry in insertion order, for eviction; dead entries are skipped. */
  readonly #all = new Fifo<DedupeEntry>();
  #size = 0;
  #full = false;

  /**
   * @param maxEntries the most live entries broker-wide.
   * @param onFull called once, the first time an entry is evicted early.
   */
  constructor(
    readonly maxEntries: number,
    private readonly onFull: () => void,
  ) {}

  /** Live entries broker-wide. */
  get size(): number {
    return this.#size;
  }

  /** The topic's live entries (for tests and metrics). */
  topicSize(topicId: number): number {
    // Only live entries stay in the map.
    return this.#topics.get(topicId)?.byId.size ?? 0;
  }

  /** The entry of `messageId` on the topic if it was added less than `windowMs` before `now`. */
  find(topicId: number, messageId: string, windowMs: number, now: number): DedupeEntry | undefined {
    const e = this.#topics.get(topicId)?.byId.get(messageId);
    return e !== undefined && now < e.timeMs + windowMs ? e : undefined;
  }

  /**
   * Records the first publish of `messageId`, replacing an expired entry of
   * the same id. Entries of the topic that expired by `timeMs` leave first;
   * beyond the cap, the oldest entries broker-wide are evicted.
   */
  add(topicId: number, messageId: string, partition: number, offset: bigint, timeMs: number, windowMs: number): DedupeEntry {
    const t = this.#topicEntries(topicId);
    this.#expireHead(t, windowMs, timeMs);
    const old = t.byId.get(messageId);
    if (old !== undefined && old.live) this.#kill(old, t);
    const entry: DedupeEntry = { topicId, messageId, partition, offset, timeMs, live: true };
    t.byId.set(messageId, entry);
    t.queue.push(entry);
    if (timeMs > t.newest) t.newest = timeMs;
    if (t.storedFrom === undefined || timeMs < t.storedFrom) t.storedFrom = timeMs;
    this.#all.push(entry);
    this.#size++;
    if (this.#size > this.maxEntries) this.#evict();
    // Dead entries pile up in #all when topics expire on their own; drop them
    // once they outnumber the live ones (amortised O(1) per add).
    if (this.#all.length > 2 * this.#size + 1024) this.#all.retain((e) => e.live);
    return entry;
  }

  /** Forgets an entry whose write failed, unless something replaced it. */
  withdraw(entry: DedupeEntry): void {
    const t = this.#topics.get(entry.topicId);
    if (t !== undefined && entry.live) this.#kill(entry, t);
  }

  /** Forgets the topic's entries added `windowMs` or longer before `now`. */
  expire(topicId: number, windowMs: number, now: number): void {
    const t = this.#topics.get(topicId);
    if (t === undefined) return;
    this.#expireHead(t, windowMs, now);
    if (t.queue.length === 0 && t.storedFrom === undefined) this.#topics.delete(topicId);
  }

  /** Forgets the topic's entries (dedupe was turned off); storage bookkeeping stays. */
  clear(topicId: number): void {
    const t = this.#topics.get(topicId);
    if (t === undefined) return;
    this.#expireHead(t, 0, Infinity);
  }

  /** Forgets everything about a deleted topic. */
  dropTopic(topicId: number): void {
    this.clear(topicId);
    this.#topics.delete(topicId);
  }

  /** Notes that storage may hold entries of the topic from any time (at start). */
  assumeStored(topicId: number): void {
    this.#topicEntries(topicId).storedFrom = 0;
  }

  /** Whether storage may hold entries of the topic older than `beforeMs`. */
  mayHoldStoredBefore(topicId: number, beforeMs: number): boolean {
    const from = this.#topics.get(topicId)?.storedFrom;
    return from !== undefined && from < beforeMs;
  }

  /** Notes that storage no longer holds entries of the topic older than `beforeMs`. */
  storedDeletedBefore(topicId: number, beforeMs: number): void {
    const t = this.#topics.get(topicId);
    if (t === undefined) return;
    t.storedFrom = t.newest >= beforeMs ? beforeMs : undefined;
    if (t.queue.length === 0 && t.storedFrom === undefined) this.#topics.delete(topicId);
  }

  #topicEntries(topicId: number): TopicEntries {
    let t = this.#topics.get(topicId);
    if (t === undefined) {
      t = { byId: new Map(), queue: new Fifo(), newest: -Infinity, storedFrom: undefined };
      this.#topics.set(topicId, t);
    }
    return t;
  }

  #expireHead(t: TopicEntries, windowMs: number, now: number): void {
    for (let e = t.queue.peek(); e !== undefined; e = t.queue.peek()) {
      if (e.live && now < e.timeMs + windowMs) return;
      t.queue.shift();
      if (e.live) this.#kill(e, t);
    }
  }

  #kill(e: DedupeEntry, t: TopicEntries): void {
    e.live = false;
    if (t.byId.get(e.messageId) === e) t.byId.delete(e.messageId);
    this.#size--;
  }

  #evict(): void {
    if (!this.#full) {
      this.#full = true;
      this.onFull();
    }
    while (this.#size > this.maxEntries) {
      const e = this.#all.shift();
      if (e === undefined) return;
      if (!e.live) continue;
      const t = this.#topics.get(e.topicId)!;
      this.#kill(e, t);
      // The oldest entry broker-wide is the oldest of its topic: its queue's head.
      while (t.queue.peek()?.live === false) t.queue.shift();
    }
  }
}

/**
 * Fills `index` from storage at start: the entries still inside their
 * topic's window at `now`, oldest first (so that the cap keeps the newest).
 * Every topic is marked as possibly holding expired entries in storage, so
 * that the first cleanup deletes them.
 */
export async function restoreDedupe(index: DedupeIndex, storage: Storage, topics: readonly TopicMeta[], now: number): Promise<void> {
  const since = new Map<number, number>();
  const windows = new Map<number, number>();
  for (const t of topics) {
    index.assumeStored(t.id);
    if (t.dedupeWindowMs === 0) continue;
    // Live means now < time + window.
    since.set(t.id, Math.max(0, now - t.dedupeWindowMs + 1));
    windows.set(t.id, t.dedupeWindowMs);
  }
  const entries = await storage.loadDedupe(since);
  entries.sort((a, b) => a.timeMs - b.timeMs);
  for (const e of entries) index.add(e.topicId, e.messageId, e.partition, e.offset, e.timeMs, windows.get(e.topicId)!);
}
