/**
 * Maps errors from classic-level / LevelDB to {@link StorageError}, keeping
 * the original as `cause` for the log.
 */

import { StorageError, type StorageErrorCode } from "./storage.js";

/** Error codes abstract-level uses when the database or a resource is closed. */
const CLOSED_CODES = new Set([
  "LEVEL_DATABASE_NOT_OPEN",
  "LEVEL_BATCH_NOT_OPEN",
  "LEVEL_ITERATOR_NOT_OPEN",
  "LEVEL_ABORTED",
]);

// LevelDB reports I/O failures as text ("IO error: <file>: No space left on
// device"); there is no errno to read.
const FULL_PATTERN = /ENOSPC|EDQUOT|No space left|Disk quota exceeded/i;

/**
 * The {@link StorageErrorCode} for an error thrown by classic-level. Follows
 * the `cause` chain, because abstract-level wraps open failures in a
 * generic "Database failed to open" error.
 */
export function levelErrorCode(err: unknown): StorageErrorCode {
  let closed = false;
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (code === "LEVEL_CORRUPTION") return "corrupt";
    if (code === "LEVEL_LOCKED") return "unavailable";
    if (FULL_PATTERN.test(e.message) || code === "ENOSPC" || code === "EDQUOT") return "full";
    // LevelDB's own I/O failure (e.g. a missing MANIFEST) under a "failed to open" wrapper.
    if (code === "LEVEL_IO_ERROR") return "io";
    // Keep looking: a "not open" wrapper may carry a more precise cause.
    if (typeof code === "string" && CLOSED_CODES.has(code)) closed = true;
  }
  return closed ? "unavailable" : "io";
}

/**
 * Wraps `err` in a {@link StorageError} (returned as is when it already is
 * one). `action` says what failed, e.g. "writing a batch".
 */
export function toStorageError(err: unknown, action: string): StorageError {
  if (err instanceof StorageError) return err;
  const code = levelErrorCode(err);
  const detail = err instanceof Error ? err.message : String(err);
  const message =
    code === "unavailable"
      ? `storage is closed or unavailable while ${action}`
      : code === "full"
        ? `disk full while ${action}: ${detail}`
        : `${action} failed: ${detail}`;
  return new StorageError(code, message, { cause: err });
}
