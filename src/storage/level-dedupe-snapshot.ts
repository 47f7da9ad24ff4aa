/**
 * The dedupe snapshot of {@link LevelStorage}: one opaque blob, stored as
 * chunks of at most 1 MiB (LevelDB handles many moderate values better than
 * one huge one) plus a header key with the chunk count and total length, so
 * that loading reads the chunks one at a time into one buffer (a snapshot of
 * a full index is tens of MB; holding every chunk and a copy would double it).
 */

import { DEDUPE_SNAPSHOT_HEADER_KEY, dedupeSnapshotChunkKey } from "./level-keys.js";
import type { LevelDb } from "./level-write-batch.js";
import { StorageError } from "./storage.js";

/** The largest chunk. */
const SNAPSHOT_CHUNK_BYTES = 1 << 20;

/** The chunk count and total length in the header; `undefined` when there is no snapshot. Rejects with `corrupt` on a malformed header. */
export async function readSnapshotHeader(db: LevelDb): Promise<{ chunks: number; length: number } | undefined> {
  const header = await db.get(DEDUPE_SNAPSHOT_HEADER_KEY);
  if (header === undefined) return undefined;
  if (header.byteLength !== 12) throw new StorageError("corrupt", "malformed dedupe snapshot header");
  const v = new DataView(header.buffer, header.byteOffset, 12);
  return { chunks: v.getUint32(0), length: v.getFloat64(4) };
}

/** The snapshot's bytes, or `undefined` when none was written. Rejects with `corrupt` if a chunk is missing or the wrong size. */
export async function loadSnapshot(db: LevelDb): Promise<Uint8Array | undefined> {
  const header = await readSnapshotHeader(db);
  if (header === undefined) return undefined;
  const bytes = new Uint8Array(header.length);
  let at = 0;
  for (let i = 0; i < header.chunks; i++) {
    const chunk = await db.get(dedupeSnapshotChunkKey(i));
    if (chunk === undefined || at + chunk.byteLength > bytes.byteLength) {
      throw new StorageError("corrupt", `dedupe snapshot chunk ${i} of ${header.chunks} is missing or too long`);
    }
    bytes.set(chunk, at);
    at += chunk.byteLength;
  }
  if (at !== bytes.byteLength) throw new StorageError("corrupt", `dedupe snapshot is ${at} bytes; its header says ${bytes.byteLength}`);
  return bytes;
}

/**
 * The puts (and deletes, as `undefined` values) that replace the snapshot
 * with `bytes`: its chunks, the header, and deletes of chunks up to
 * `staleChunks` that the new snapshot does not overwrite. An empty snapshot
 * is one empty chunk, so that it differs from none.
 */
export function snapshotWrites(bytes: Uint8Array, staleChunks: number): { keys: Uint8Array[]; values: (Uint8Array | undefined)[] } {
  const count = Math.max(1, Math.ceil(bytes.byteLength / SNAPSHOT_CHUNK_BYTES));
  const keys: Uint8Array[] = [];
  const values: (Uint8Array | undefined)[] = [];
  for (let i = 0; i < count; i++) {
    keys.push(dedupeSnapshotChunkKey(i));
    values.push(bytes.subarray(i * SNAPSHOT_CHUNK_BYTES, (i + 1) * SNAPSHOT_CHUNK_BYTES));
  }
  for (let i = count; i < staleChunks; i++) {
    keys.push(dedupeSnapshotChunkKey(i));
    values.push(undefined);
  }
  const header = new Uint8Array(12);
  const v = new DataView(header.buffer);
  v.setUint32(0, count);
  v.setFloat64(4, bytes.byteLength);
  keys.push(DEDUPE_SNAPSHOT_HEADER_KEY);
  values.push(header);
  return { keys, values };
}
