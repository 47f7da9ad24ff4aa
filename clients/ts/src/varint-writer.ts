/**
 * Protobuf varint sizes and writes for the hand-written encoders
 * (`publish-request-encoder.ts`, `subscribe-request-encoder.ts`). Numbers
 * must be non-negative integers below 2^53; bigints below 2^64.
 * @internal
 */

const TWO_POW_53 = 2n ** 53n;

/** Bytes of the varint of `x`. */
export function varintLength(x: number): number {
  let n = 1;
  while (x >= 128) {
    x = Math.floor(x / 128);
    n++;
  }
  return n;
}

/** Writes the varint of `x` at `p`; returns the position after it. */
export function writeVarint(out: Buffer, p: number, x: number): number {
  while (x >= 128) {
    out[p++] = (x & 0x7f) | 0x80;
    x = Math.floor(x / 128);
  }
  out[p++] = x;
  return p;
}

/** Bytes of the varint of `x`. */
export function bigVarintLength(x: bigint): number {
  if (x < TWO_POW_53) return varintLength(Number(x));
  let n = 1;
  while (x >= 128n) {
    x >>= 7n;
    n++;
  }
  return n;
}

/** Writes the varint of `x` at `p`; returns the position after it. */
export function writeBigVarint(out: Buffer, p: number, x: bigint): number {
  if (x < TWO_POW_53) return writeVarint(out, p, Number(x));
  while (x >= 128n) {
    out[p++] = Number(x & 0x7fn) | 0x80;
    x >>= 7n;
  }
  out[p++] = Number(x);
  return p;
}

/** Bytes of a length-delimited field with a body of `n` bytes (one-byte tag included). */
export function fieldLength(n: number): number {
  return 1 + varintLength(n) + n;
}
