/**
 * The dedupe snapshot of {@link LevelStorage}: one file beside LevelDB's, not
 * LevelDB values. A snapshot of a full index is tens of MB, written once at
 * shutdown and read once at start; through LevelDB it went through the
 * write-ahead log, the memtable and compactions, and loading it left its
 * blocks mapped and its values as garbage (~60 MB of RSS measured). The file
 * is replaced atomically (write, sync, rename, sync the directory) and read
 * in pieces into one reused buffer. Its length is kept in LevelDB (see
 * `DEDUPE_SNAPSHOT_KEY`), written and synced before the file.
 */

import { open, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { StorageError } from "./storage.js";

/** The snapshot's file name in the data directory. */
export const SNAPSHOT_FILE = "dedupe-snapshot";
/** Where the next snapshot is written before it replaces the last. */
export const SNAPSHOT_TEMP_FILE = `${SNAPSHOT_FILE}.tmp`;

/** The largest piece read at once. */
const PIECE_BYTES = 1 << 20;

/** Replaces the snapshot in `dir` with `bytes`, durably. Rejects with the file system's error. */
export async function writeSnapshotFile(dir: string, bytes: Uint8Array): Promise<void> {
  const temp = join(dir, SNAPSHOT_TEMP_FILE);
  const file = await open(temp, "w");
  try {
    await file.writeFile(bytes);
    await file.datasync();
  } catch (err) {
    await file.close().catch(() => undefined);
    await rm(temp, { force: true }).catch(() => undefined);
    throw err;
  }
  await file.close();
  await rename(temp, join(dir, SNAPSHOT_FILE));
  // The rename is durable once the directory is.
  const directory = await open(dir, "r");
  try {
    await directory.sync();
  } finally {
    await directory.close();
  }
}

/**
 * The snapshot in `dir`, which must be `length` bytes, in pieces, in order
 * (one empty piece when it is empty). Each piece is valid only until the next
 * is asked for: one buffer is reused. Rejects with `corrupt` when the file is
 * missing or of another length, else with the file system's error.
 */
export async function* readSnapshotFile(dir: string, length: number): AsyncGenerator<Uint8Array> {
  let file;
  try {
    file = await open(join(dir, SNAPSHOT_FILE), "r");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") throw new StorageError("corrupt", `the dedupe snapshot file is missing`);
    throw err;
  }
  try {
    const size = (await file.stat()).size;
    if (size !== length) throw new StorageError("corrupt", `the dedupe snapshot file is ${size} bytes, not ${length}`);
    if (size === 0) {
      yield new Uint8Array(0);
      return;
    }
    const buffer = new Uint8Array(Math.min(size, PIECE_BYTES));
    let at = 0;
    while (at < size) {
      const { bytesRead } = await file.read(buffer, 0, Math.min(buffer.byteLength, size - at), at);
      if (bytesRead === 0) throw new StorageError("corrupt", `the dedupe snapshot file ended at ${at} of ${size} bytes`);
      at += bytesRead;
      yield buffer.subarray(0, bytesRead);
    }
  } finally {
    await file.close();
  }
}
