/**
 * The value of a log pack (`level-keys.ts`, an 18-byte log key): the records
 * of a run of consecutive offsets of one partition, in offset order, as
 * one LevelDB value:
 *
 *     count:varint, then count x (length:varint, bytes)
 *
 * One LevelDB entry per run instead of one per record is what makes the log
 * cheap: a write batch makes one native call and one memtable entry per
 * pack, and a reader gets one buffer per pack, whose records it hands out as
 * views, instead of a key and a value buffer per record.
 */

import { StorageError } from "./storage.js";

/** The most records in one pack. */
export const PACK_MAX_RECORDS = 1024;
/**
 * The most record bytes in one pack, unless a single record is larger: a
 * read of one record (a redelivery) reads its whole pack, and retention's
 * size estimates are off by up to a pack, so packs stay small.
 */
export const PACK_MAX_BYTES = 64 * 1024;

function varintLength(n: number): number {
  let len = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 0x80);
    len++;
  }
  return len;
}

function writeVarint(out: Uint8Array, at: number, n: number): number {
  while (n >= 0x80) {
    out[at++] = (n & 0x7f) | 0x80;
    n = Math.floor(n / 0x80);
  }
  out[at++] = n;
  return at;
}

/** The bytes of a pack of `values[order[start]]` to `values[order[end - 1]]`. */
export function packLength(values: readonly Uint8Array[], order: Uint32Array, start: number, end: number): number {
  let length = varintLength(end - start);
  for (let k = start; k < end; k++) {
    const n = values[order[k]!]!.byteLength;
    length += varintLength(n) + n;
  }
  return length;
}

/** Writes that pack into `out` from 0 (it must have {@link packLength} bytes); returns its length. */
export function writePack(out: Uint8Array, values: readonly Uint8Array[], order: Uint32Array, start: number, end: number): number {
  let at = writeVarint(out, 0, end - start);
  for (let k = start; k < end; k++) {
    const value = values[order[k]!]!;
    at = writeVarint(out, at, value.byteLength);
    out.set(value, at);
    at += value.byteLength;
  }
  return at;
}

/**
 * Reads the records of one pack in order. Records are views into the pack's
 * bytes (no copies). A pack that does not parse is `corrupt`.
 */
export class PackReader {
  /** Records in the pack (at least 1). */
  readonly count: number;
  #at = 0;
  #read = 0;

  /** @param what names the pack in errors (its topic, partition and last offset); called only then. */
  constructor(
    private readonly pack: Uint8Array,
    private readonly what: () => string,
  ) {
    this.count = this.#varint();
    if (this.count < 1) throw this.#corrupt("holds no records");
  }

  /** The next record's bytes. */
  next(): Uint8Array {
    if (this.#read >= this.count) throw new RangeError("read past the end of a pack");
    const length = this.#varint();
    const at = this.#at;
    if (length > this.pack.byteLength - at) throw this.#corrupt("ends inside a record");
    this.#at = at + length;
    this.#read++;
    // A plain view: a Buffer's subarray costs more, and callers want only bytes.
    return new Uint8Array(this.pack.buffer, this.pack.byteOffset + at, length);
  }

  /** Steps over `n` records. */
  skip(n: number): void {
    for (let i = 0; i < n; i++) {
      if (this.#read >= this.count) throw new RangeError("skipped past the end of a pack");
      const length = this.#varint();
      if (length > this.pack.byteLength - this.#at) throw this.#corrupt("ends inside a record");
      this.#at += length;
      this.#read++;
    }
  }

  #varint(): number {
    const pack = this.pack;
    let n = 0;
    let scale = 1;
    for (let shift = 0; shift < 35; shift += 7) {
      if (this.#at >= pack.byteLength) throw this.#corrupt("ends inside a length");
      const b = pack[this.#at++]!;
      n += (b & 0x7f) * scale;
      if (b < 0x80) return n;
      scale *= 0x80;
    }
    throw this.#corrupt("has a length over 35 bits");
  }

  #corrupt(why: string): StorageError {
    return new StorageError("corrupt", `malformed log pack (${this.what()}): it ${why}`);
  }
}

/** A pack of `values`, in order (for rewriting part of a pack). */
export function packOf(values: readonly Uint8Array[]): Uint8Array {
  const order = Uint32Array.from(values.keys());
  const out = new Uint8Array(packLength(values, order, 0, values.length));
  writePack(out, values, order, 0, values.length);
  return out;
}
