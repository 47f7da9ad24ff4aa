/**
 * One partition's records for {@link MemoryStorage}: a map for lookups plus
 * a sorted array of offsets for ordered reads. Appends at the end (the usual
 * case) are O(1); anything else is a binary search and a splice.
 */

import type { PartitionBounds, StoredRecord } from "./storage.js";

/** A partition's records, kept in offset order. Stores what it is given. */
export class MemoryPartitionLog {
  readonly #offsets: bigint[] = [];
  readonly #values = new Map<bigint, Uint8Array>();
  /** The end never goes below this once records were deleted up to it. */
  #endFloor = 0n;

  /** Stores `value` at `offset`, replacing any record there (as LevelDB does). */
  set(offset: bigint, value: Uint8Array): void {
    if (!this.#values.has(offset)) {
      const offsets = this.#offsets;
      const last = offsets[offsets.length - 1];
      if (last === undefined || offset > last) offsets.push(offset);
      else offsets.splice(this.#indexOf(offset), 0, offset);
    }
    this.#values.set(offset, value);
  }

  /** The value at `offset`; `undefined` when there is none. */
  get(offset: bigint): Uint8Array | undefined {
    return this.#values.get(offset);
  }

  /** `{floor, floor}` when empty, where the floor is 0 until records were deleted. */
  bounds(): PartitionBounds {
    const offsets = this.#offsets;
    const first = offsets[0];
    const last = offsets[offsets.length - 1];
    const floor = this.#endFloor;
    if (first === undefined || last === undefined) return { start: floor, end: floor };
    return { start: first, end: last + 1n > floor ? last + 1n : floor };
  }

  /**
   * Records at offsets >= `from`, in order, with the limits of
   * `Storage.readRecords`. `copy` is applied to each value returned.
   */
  read(from: bigint, maxRecords: number, maxBytes: number, copy: (v: Uint8Array) => Uint8Array): StoredRecord[] {
    const records: StoredRecord[] = [];
    let bytes = 0;
    for (let i = this.#indexOf(from); i < this.#offsets.length && records.length < maxRecords; i++) {
      const offset = this.#offsets[i];
      const value = this.#values.get(offset)!;
      bytes += value.byteLength;
      if (bytes > maxBytes && records.length > 0) break;
      records.push({ offset, value: copy(value) });
      if (bytes >= maxBytes) break;
    }
    return records;
  }

  /** Removes the records at offsets in [from, to); the end stays at `to` or above. */
  deleteRange(from: bigint, to: bigint): void {
    if (from >= to) return;
    if (to > this.#endFloor) this.#endFloor = to;
    const first = this.#indexOf(from);
    const end = this.#indexOf(to);
    for (const offset of this.#offsets.splice(first, end - first)) this.#values.delete(offset);
  }

  /** The bytes of the values at offsets >= `from`. */
  bytes(from: bigint): number {
    let total = 0;
    for (let i = this.#indexOf(from); i < this.#offsets.length; i++) total += this.#values.get(this.#offsets[i]!)!.byteLength;
    return total;
  }

  /** The index of the first offset >= `offset`. */
  #indexOf(offset: bigint): number {
    let low = 0;
    let high = this.#offsets.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.#offsets[mid] < offset) low = mid + 1;
      else high = mid;
    }
    return low;
  }
}
