/**
 * Protobuf varints for the hand-written encoders on the hot paths (stored
 * records, deliveries, publish results): a length first, then the bytes,
 * into a buffer sized from those lengths.
 */

const MAX_EXACT = 0x1f_ffff_ffff_ffffn;

/** Bytes of the varint of a non-negative integer: a number up to 2^53, or a bigint up to 2^64 - 1. */
export function varintLength(v: number | bigint): number {
  let x = typeof v === "bigint" && v <= MAX_EXACT ? Number(v) : v;
  let n = 1;
  if (typeof x === "number") {
    while (x >= 128) {
      x = Math.floor(x / 128);
      n++;
    }
    return n;
  }
  while (x >= 128n) {
    x >>= 7n;
    n++;
  }
  return n;
}

/** Writes the varint of a non-negative integer (as {@link varintLength}) at `p`; returns the position after it. */
export function writeVarint(out: Uint8Array, p: number, v: number | bigint): number {
  let x = typeof v === "bigint" && v <= MAX_EXACT ? Number(v) : v;
  if (typeof x === "number") {
    while (x >= 128) {
      out[p++] = (x & 0x7f) | 0x80;
      x = Math.floor(x / 128);
    }
    out[p++] = x;
    return p;
  }
  while (x >= 128n) {
    out[p++] = Number(x & 0x7fn) | 0x80;
    x >>= 7n;
  }
  out[p++] = Number(x);
  return p;
}

/** The unsigned value whose varint encodes the signed 64-bit `v` (two's complement for negatives). */
export function int64Varint(v: number): number | bigint {
  return v >= 0 ? v : BigInt.asUintN(64, BigInt(v));
}
