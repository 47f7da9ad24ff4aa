/**
 * The hash table of the dedupe index: it maps the 96-bit hash of a live entry
 * to the entry's slot in the index's ring. Open addressing with linear
 * probing over twice as many slots as the ring (load at most 0.5), one 32-bit
 * word and one byte per slot, so 10 bytes per ring slot.
 */

/** The smallest ring the table packs for: 2^10 slots. */
export const MIN_RING_BITS = 10;
/** The largest: 2^27 slots (`--dedupe-max-entries` is at most 10^8), so that a word keeps a tag of 4 bits. */
export const MAX_RING_BITS = 27;
/** The distance a slot records as "this far or more". */
const FAR = 255;

/** Throws unless a ring of `capacity` slots is one the table can pack. */
export function checkRingCapacity(capacity: number): void {
  const k = Math.log2(capacity);
  if (!(Number.isInteger(k) && k >= MIN_RING_BITS && k <= MAX_RING_BITS)) {
    throw new RangeError(`a dedupe ring of ${capacity} slots is not 2^k with k in ${MIN_RING_BITS}..${MAX_RING_BITS}`);
  }
}

/**
 * With a ring of 2^k slots the table has 2^(k+1), and a word splits at bit
 * k+1 (`mask` = 2^(k+1) - 1 covers the low part):
 * - the low k+1 bits hold ring slot + 1 (1..2^k; 0 is an empty table slot);
 * - the high 31-k bits hold the high 31-k bits of h0, as a tag. The low k+1
 *   bits of h0 are the entry's home slot, so the tag is exactly the part of
 *   h0 the home slot does not use (`h0 & ~mask`).
 *
 * A lookup compares tags in the table and reads the ring (h0, h1, h2, topic)
 * only on a tag match: with k = 20 a probe past another entry matches its
 * tag once in 2^11. Each slot also keeps how far its entry sits from its
 * home slot (255: that far or more, then h0 is read from the ring), so that
 * backward-shift deletion, which runs once per publish once the index is
 * full, finds the home slot of the entries it may move without a random
 * read of the ring (that read cost ~100 ns per publish).
 */
export class DedupeTable {
  readonly #words: Int32Array;
  /** Distance of each slot's entry from its home slot, saturating at {@link FAR}. */
  readonly #dist: Uint8Array;
  readonly #mask: number;

  /** The table of a ring of `capacity` slots whose columns are these (the table reads, never writes them). */
  constructor(
    capacity: number,
    private readonly h0: Uint32Array,
    private readonly h1: Uint32Array,
    private readonly h2: Uint32Array,
    private readonly topic: Uint32Array,
  ) {
    checkRingCapacity(capacity);
    this.#words = new Int32Array(capacity * 2);
    this.#dist = new Uint8Array(capacity * 2);
    this.#mask = capacity * 2 - 1;
  }

  /** The ring slot of the live entry with this hash on the topic, or -1. */
  find(h0: number, h1: number, h2: number, topicId: number): number {
    const words = this.#words;
    const mask = this.#mask;
    const tag = h0 & ~mask;
    for (let s = h0 & mask; ; s = (s + 1) & mask) {
      const w = words[s]!;
      if (w === 0) return -1;
      if ((w & ~mask) !== tag) continue;
      const i = (w & mask) - 1;
      if (this.h1[i] === h1 && this.h0[i] === h0 && this.h2[i] === h2 && this.topic[i] === topicId) return i;
    }
  }

  /** Adds ring slot `i`, whose hash is not in the table. */
  insert(i: number): void {
    const words = this.#words;
    const mask = this.#mask;
    const h0 = this.h0[i]!;
    const home = h0 & mask;
    let s = home;
    while (words[s] !== 0) s = (s + 1) & mask;
    words[s] = (h0 & ~mask) | (i + 1);
    this.#dist[s] = Math.min((s - home) & mask, FAR);
  }

  /** Takes ring slot `i` out (backward-shift deletion: no tombstones). */
  remove(i: number): void {
    const words = this.#words;
    const mask = this.#mask;
    let hole = this.h0[i]! & mask;
    while ((words[hole]! & mask) !== i + 1) hole = (hole + 1) & mask;
    // Move later entries of the probe run back into the hole unless that
    // would put them before their home slot.
    const dist = this.#dist;
    for (let s = (hole + 1) & mask; ; s = (s + 1) & mask) {
      const w = words[s]!;
      if (w === 0) break;
      const d = dist[s]!;
      const home = d < FAR ? (s - d) & mask : this.h0[(w & mask) - 1]! & mask;
      const between = hole <= s ? hole < home && home <= s : hole < home || home <= s;
      if (between) continue;
      words[hole] = w;
      dist[hole] = Math.min((hole - home) & mask, FAR);
      hole = s;
    }
    words[hole] = 0;
  }
}
