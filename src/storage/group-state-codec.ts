/**
 * The binary encoding of a {@link GroupPartitionState}, written on every
 * acknowledgement batch, so it is compact and cheap: big-endian
 * `committed:u64 count:u32 (start:u64 end:u64) * count`, then optionally
 * (absent in states written before they existed) the extras
 * `deadLettered:u64 dropped:u64 skipped:u64 attempts:u32 (offset:u64 n:u32) * attempts`.
 */

import { StorageError, type GroupPartitionState } from "./storage.js";
import { assertU64 } from "./validate.js";

const HEADER_BYTES = 12;
const RANGE_BYTES = 16;
const EXTRAS_BYTES = 28;
const ATTEMPT_BYTES = 12;

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
  const attempts = state.attempts ?? [];
  const extras = attempts.length > 0 || (state.deadLettered ?? 0n) > 0n || (state.dropped ?? 0n) > 0n || (state.skipped ?? 0n) > 0n;
  const rangesEnd = HEADER_BYTES + RANGE_BYTES * state.acked.length;
  const bytes = new Uint8Array(rangesEnd + (extras ? EXTRAS_BYTES + ATTEMPT_BYTES * attempts.length : 0));
  const view = new DataView(bytes.buffer);
  view.setBigUint64(0, state.committed);
  view.setUint32(8, state.acked.length);
  let at = HEADER_BYTES;
  for (const [start, end] of state.acked) {
    view.setBigUint64(at, start);
    view.setBigUint64(at + 8, end);
    at += RANGE_BYTES;
  }
  if (!extras) return bytes;
  view.setBigUint64(at, state.deadLettered ?? 0n);
  view.setBigUint64(at + 8, state.dropped ?? 0n);
  view.setBigUint64(at + 16, state.skipped ?? 0n);
  view.setUint32(at + 24, attempts.length);
  at += EXTRAS_BYTES;
  for (const [offset, n] of attempts) {
    assertU64("attempt offset", offset);
    view.setBigUint64(at, offset);
    view.setUint32(at + 8, n);
    at += ATTEMPT_BYTES;
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
  const rangesEnd = HEADER_BYTES + RANGE_BYTES * count;
  const malformed = () => new StorageError("corrupt", `group partition state of ${bytes.byteLength} bytes is malformed`);
  if (count < 0 || bytes.byteLength < rangesEnd) throw malformed();
  const acked = new Array<readonly [bigint, bigint]>(count);
  for (let i = 0, at = HEADER_BYTES; i < count; i++, at += RANGE_BYTES) {
    acked[i] = [view.getBigUint64(at), view.getBigUint64(at + 8)];
  }
  const committed = view.getBigUint64(0);
  if (bytes.byteLength === rangesEnd) return { committed, acked };
  const n = bytes.byteLength >= rangesEnd + EXTRAS_BYTES ? view.getUint32(rangesEnd + 24) : -1;
  if (n < 0 || bytes.byteLength !== rangesEnd + EXTRAS_BYTES + ATTEMPT_BYTES * n) throw malformed();
  const attempts = new Array<readonly [bigint, number]>(n);
  for (let i = 0, at = rangesEnd + EXTRAS_BYTES; i < n; i++, at += ATTEMPT_BYTES) {
    attempts[i] = [view.getBigUint64(at), view.getUint32(at + 8)];
  }
  return {
    committed,
    acked,
    deadLettered: view.getBigUint64(rangesEnd),
    dropped: view.getBigUint64(rangesEnd + 8),
    skipped: view.getBigUint64(rangesEnd + 16),
    attempts,
  };
}
