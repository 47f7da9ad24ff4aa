/**
 * One entry of the log keyspace (`level-keys.ts`) decoded: a pack
 * (`record-pack.ts`) or a single record stored by format v1, read alike.
 */

import { isPackKey, logKeyName, logKeyOffset } from "./level-keys.js";
import { PackReader } from "./record-pack.js";

/** One log entry read: a v1 record (a pack of one, as far as readers care) or a pack. */
export interface LogEntry {
  readonly first: bigint;
  readonly last: bigint;
  /** Its records in order, from `first`. */
  readonly reader: { readonly count: number; next(): Uint8Array; skip(n: number): void };
}

/** Reads one record stored under a v1 key. */
class SingleRecord {
  readonly count = 1;
  #read = false;
  constructor(private readonly value: Uint8Array) {}
  next(): Uint8Array {
    if (this.#read) throw new RangeError("read past the end of a record");
    this.#read = true;
    return this.value;
  }
  skip(n: number): void {
    if (n > 0) this.next();
  }
}

/** Decodes a log entry. A malformed pack is `corrupt` (see {@link PackReader}). */
export function logEntry(key: Uint8Array, value: Uint8Array): LogEntry {
  const last = logKeyOffset(key);
  if (!isPackKey(key)) return { first: last, last, reader: new SingleRecord(value) };
  const reader = new PackReader(value, () => logKeyName(key));
  return { first: last - BigInt(reader.count - 1), last, reader };
}
