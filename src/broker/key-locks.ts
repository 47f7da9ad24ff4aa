/** Later messages of a held key, in offset order, and since when they wait. */
export interface ParkedKey {
  offsets: bigint[];
  since: number;
}

/**
 * An ordered group's keys in one partition: the message holding each key,
 * and the later messages of held keys, parked until the holder lets go. A
 * message is delivered only while it holds its key, so the messages of one
 * key go out one at a time, in offset order.
 */
export class KeyLocks {
  /** The offset currently holding each key. */
  readonly holders = new Map<string, bigint>();
  /** The messages parked behind each held key. */
  readonly parked = new Map<string, ParkedKey>();
  #parkedCount = 0;

  /** How many messages are parked, over every key. */
  get parkedCount(): number {
    return this.#parkedCount;
  }

  /** Parks the message at `offset` behind the holder of `key`. */
  park(key: string, offset: bigint, now: number): void {
    const p = this.parked.get(key);
    if (p) p.offsets.push(offset);
    else this.parked.set(key, { offsets: [offset], since: now });
    this.#parkedCount++;
  }

  /**
   * The message at `offset` lets go of `key`. Returns the next parked
   * message of the key, which now holds it, or undefined when none was
   * parked (the key is free) or `offset` did not hold `key`.
   */
  release(key: string, offset: bigint, now: number): bigint | undefined {
    if (key === "" || this.holders.get(key) !== offset) return undefined;
    const p = this.parked.get(key);
    const next = p?.offsets.shift();
    if (next === undefined) {
      this.holders.delete(key);
      this.parked.delete(key);
      return undefined;
    }
    this.#parkedCount--;
    if (p!.offsets.length === 0) this.parked.delete(key);
    else p!.since = now;
    this.holders.set(key, next);
    return next;
  }

  /** Forgets parked messages below `start` (retention removed them); holders stay. */
  dropBelow(start: bigint): void {
    for (const [k, p] of this.parked) {
      const kept = p.offsets.filter((o) => o >= start);
      this.#parkedCount -= p.offsets.length - kept.length;
      if (kept.length === 0) this.parked.delete(k);
      else p.offsets = kept;
    }
  }

  /** Forgets every holder and parked message. */
  clear(): void {
    this.parked.clear();
    this.holders.clear();
    this.#parkedCount = 0;
  }
}
