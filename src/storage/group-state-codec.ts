/**
 * The binary encoding of a {@link GroupPartitionState}, written on every
 * acknowledgement batch, so it is compact and cheap: big-endian
 * `committed:u64 count:u32 (start:u64 end:u64) * count`.
 */

import { StorageError, type GroupPartitionState } from "./storage.js";
import { assertU64 } from "./validate.js";

const HEADER_BYTES = 12;
const RANGE_BYTES = 16;

/**
 * Checks the invariants {@link GroupPartitionState} promises: every offset
 * is a u64 and the acked ranges are non-empty, sorted, disjoint,
 * non-adjacent and above `committed`. Throws `RangeError` otherwise, because
 * storing a state that breaks them would hide a bug in the caller.
 */
export function assertGroupPartitionState(state: GroupPartitionState): void {
  assertU64("committed", state.committed);
  // A range must start strictly after the previous end: equal would be adjacent.
  let floor = state.committed;
  for (const [start, end] of state.acked) {
    assertU64("acked range start", start);
    assertU64("acked range end", end);
    if (start <= floor || end <= start) {
      throw new RangeError(
        `acked ranges must be non-empty, sorted, non-adjacent and above committed ${state.committed}: ` +
          `[${start}, ${end}) follows ${floor}`,
      );
    }
    floor = end;
  }
}

/** Encodes a state; throws `RangeError` when it breaks the invariants. */
export function encodeGroupPartitionState(state: GroupPartitionState): Uint8Array {
  assertGroupPartitionState(state);
  const bytes = new Uint8Array(HEADER_BYTES + RANGE_BYTES * state.acked.length);
  const view = new DataView(bytes.buffer);
  view.setBigUint64(0, state.committed);
  view.setUint32(8, state.acked.length);
  let at = HEADER_BYTES;
  for (const [start, end] of state.acked) {
    view.setBigUint64(at, start);
    view.setBigUint64(at + 8, end);
    at += RANGE_BYTES;
  }
  return bytes;
}

/**
 * Decodes a state written by {@link encodeGroupPartitionState}. Throws
 * {@link StorageError} `corrupt` when the bytes cannot be one.
 */
export function decodeGroupPartitionState(bytes: Uint8Array): GroupPartitionState {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = bytes.byteLength >= HEADER_BYTES ? view.getUint32(8) : -1;
  if (count < 0 || bytes.byteLength !== HEADER_BYTES + RANGE_BYTES * count) {
    throw new StorageError("corrupt", `group partition state of ${bytes.byteLength} bytes is malformed`);
  }
  const acked = new Array<readonly [bigint, bigint]>(count);
  for (let i = 0, at = HEADER_BYTES; i < count; i++, at += RANGE_BYTES) {
    acked[i] = [view.getBigUint64(at), view.getBigUint64(at + 8)];
  }
  return { committed: view.getBigUint64(0), acked };
}
