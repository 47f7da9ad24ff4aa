/**
 * Argument checks shared by the storage implementations, so that every
 * implementation refuses the same inputs. A failed check is a bug in the
 * caller, so it throws synchronously (`RangeError`) instead of producing a
 * {@link StorageError}.
 */

/** The largest offset a key can hold: 2^64 - 1. */
export const MAX_OFFSET = 0xffff_ffff_ffff_ffffn;

/** Throws `RangeError` unless `value` is an integer in [0, 2^32). */
export function assertU32(name: string, value: number): void {
  // `>>> 0` maps every non-u32 (fractions, negatives, NaN, >= 2^32) elsewhere.
  if (value >>> 0 !== value) {
    throw new RangeError(`${name} must be an integer in [0, 2^32), got ${String(value)}`);
  }
}

/** Throws `RangeError` unless `value` is a bigint in [0, 2^64). */
export function assertU64(name: string, value: bigint): void {
  if (typeof value !== "bigint" || value < 0n || value > MAX_OFFSET) {
    throw new RangeError(`${name} must be a bigint in [0, 2^64), got ${String(value)}`);
  }
}

/**
 * Throws `RangeError` unless `maxRecords` is a positive safe integer and
 * `maxBytes` is at least 1 (it may be `Infinity`).
 */
export function assertReadLimits(maxRecords: number, maxBytes: number): void {
  if (!Number.isSafeInteger(maxRecords) || maxRecords < 1) {
    throw new RangeError(`maxRecords must be a positive integer, got ${maxRecords}`);
  }
  if (!(maxBytes >= 1)) throw new RangeError(`maxBytes must be at least 1, got ${maxBytes}`);
}
