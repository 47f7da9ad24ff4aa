/**
 * Why the database of a {@link LevelStorage} is reopened after a failed
 * write (see `level-db-handle.ts`).
 *
 * LevelDB appends each write to its log before applying it. When that append
 * fails (a full disk, an I/O error), part of the record may already be in
 * the file, but LevelDB carries on as if the whole record were there: every
 * later record sits at the wrong place in the log's 32 KiB blocks, and crash
 * recovery drops all of them, silently. So after a failed write nothing may
 * be written to that log again. Reopening the database replays the log (up
 * to the torn record, which is the failed write) into a table file and
 * starts a new log. That needs room on the disk: about the size of the logs.
 */

import { readdir, stat, statfs } from "node:fs/promises";
import path from "node:path";

/** Room beyond the logs' size that a reopen needs (new log, manifest, table overhead). */
const REOPEN_MARGIN_BYTES = 1 << 20;

/** Free bytes on the file system of `location`, and the bytes a reopen needs. */
export async function reopenRoom(location: string): Promise<{ free: number; needed: number }> {
  const fs = await statfs(location);
  let logs = 0;
  for (const name of await readdir(location)) {
    if (!name.endsWith(".log")) continue;
    logs += (await stat(path.join(location, name)).catch(() => ({ size: 0 }))).size;
  }
  return { free: fs.bavail * fs.bsize, needed: logs + REOPEN_MARGIN_BYTES };
}
