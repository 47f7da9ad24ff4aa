/**
 * Opening the data directory of {@link LevelStorage}: refuse what is not
 * ours, create what is missing, check the format marker.
 */

import { mkdir, readdir } from "node:fs/promises";
import { ClassicLevel } from "classic-level";
import { SNAPSHOT_FILE, SNAPSHOT_TEMP_FILE } from "./dedupe-snapshot-file.js";
import { levelErrorCode } from "./level-errors.js";
import { FORMAT_KEY, keyHex } from "./level-keys.js";
import type { LevelDb } from "./level-write-batch.js";
import { StorageError } from "./storage.js";

/**
 * The value of the format marker this version writes. v2 stores the log as
 * packs of records (`record-pack.ts`); versions that know only v1 refuse it
 * instead of misreading its packs.
 */
export const LEVEL_STORAGE_FORMAT = "sluice-storage-v2";
/** The format this version also opens, upgrading the marker: its records are read as they are (`level-log-reads.ts`). */
export const LEVEL_STORAGE_FORMAT_V1 = "sluice-storage-v1";

/** Files LevelDB writes before `CURRENT` exists, e.g. when creation crashed. */
const PRE_CURRENT_FILES = new Set(["LOCK", "LOG", "LOG.old"]);
/** Files only a LevelDB database that held data has. */
const LEVELDB_DATA_FILE = /^(MANIFEST-\d+|\d+\.(log|ldb|sst))$/;
/** Files only a data directory that held data has: LevelDB's, and our dedupe snapshot. */
const isDataFile = (name: string): boolean =>
  LEVELDB_DATA_FILE.test(name) || name === SNAPSHOT_FILE || name === SNAPSHOT_TEMP_FILE;

/** Where {@link openLevelDb} reports what it recovered from. */
export interface OpenLogger {
  warn(obj: object, msg: string): void;
}

/**
 * How LevelDB sizes and keeps its table files. It keeps the last 64 tables
 * it used open (it raises any `maxOpenFiles` below 74 to 74, less 10 for its
 * own files). classic-level's prebuilt binary reads them through mmap, and
 * every mapped page a reader touched counts in the broker's RSS until the
 * table leaves that cache: a consumer reading a backlog touches every page of
 * each table it passes, so what stays mapped is about 64 x the table size.
 * `npm ci` rebuilds LevelDB to read with `pread` instead
 * (tools/build-leveldb.mjs, `level-build.ts`); these sizes bound what the
 * prebuilt binary maps where that rebuild could not run.
 *
 * Log records are appended in key order, so LevelDB moves flushed tables down
 * the levels without rewriting them: a table is about one write buffer plus
 * the batch that filled it (the write queue hands LevelDB everything that
 * arrived during the previous write, several MB under load). With LevelDB's
 * default 4 MiB buffer a drain of a large backlog kept ~250 MB mapped; with
 * 512 KiB, ~50-90 MB, at about the same CPU per message written and read.
 * `maxFileSize` (1 MiB, LevelDB's minimum) bounds the tables compactions do
 * rewrite (acknowledgement state, ranges retention deleted). Data
 * directories written with larger tables keep them until LevelDB rewrites
 * them.
 */
export const LEVEL_TABLE_OPTIONS = {
  maxOpenFiles: 74,
  writeBufferSize: 512 * 1024,
  maxFileSize: 1024 * 1024,
} as const;

/**
 * Opens (creating when missing or empty) the Sluice database at `location`.
 * Rejects with {@link StorageError}: `foreign` when the directory holds other
 * files, or a LevelDB database without our format marker or with another
 * one; `corrupt` when LevelDB reports damage or `CURRENT` is missing beside
 * data files; `unavailable` when another process holds the directory;
 * `full` or `io` when the directory cannot be created or read.
 */
export async function openLevelDb(location: string, logger?: OpenLogger): Promise<LevelDb> {
  await checkDirectory(location, logger);
  const db: LevelDb = new ClassicLevel<Uint8Array, Uint8Array>(location, {
    keyEncoding: "view",
    valueEncoding: "view",
    createIfMissing: true,
    errorIfExists: false,
    ...LEVEL_TABLE_OPTIONS,
  });
  try {
    await db.open();
  } catch (err) {
    const code = levelErrorCode(err);
    // abstract-level wraps the LevelDB error in "Database failed to open".
    const detail = err instanceof Error && err.cause instanceof Error ? err.cause.message : String(err);
    const message =
      code === "unavailable"
        ? `data directory ${location} is in use by another process`
        : code === "corrupt"
          ? `data directory ${location} is damaged: ${detail}`
          : `data directory ${location} cannot be opened (damaged or unreadable): ${detail}`;
    throw new StorageError(code, message, { cause: err });
  }
  try {
    await checkFormat(db, location, logger);
    return db;
  } catch (err) {
    await db.close().catch(() => undefined);
    if (err instanceof StorageError) throw err;
    const code = levelErrorCode(err);
    const detail = err instanceof Error ? err.message : String(err);
    throw new StorageError(code, `data directory ${location} cannot be read (damaged or unreadable): ${detail}`, {
      cause: err,
    });
  }
}

/** Refuses, before LevelDB touches it, a directory that is not ours. */
async function checkDirectory(location: string, logger: OpenLogger | undefined): Promise<void> {
  let entries: string[];
  try {
    entries = await readdir(location);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return createDirectory(location);
    if (code === "ENOTDIR") {
      throw new StorageError("foreign", `data directory ${location} is not a directory`, { cause: err });
    }
    throw new StorageError("io", `cannot read data directory ${location}: ${String(err)}`, { cause: err });
  }
  if (entries.includes("CURRENT")) return;
  // lost+found: the directory may be the root of its own file system.
  const others = entries.filter((name) => name !== "lost+found" && !PRE_CURRENT_FILES.has(name));
  if (others.some(isDataFile)) {
    // Letting LevelDB create a fresh database here would hide the data.
    throw new StorageError(
      "corrupt",
      `data directory ${location} holds LevelDB files but no CURRENT file; restore it from a backup`,
    );
  }
  if (others.length > 0) {
    const shown = others.slice(0, 5).join(", ") + (others.length > 5 ? ", ..." : "");
    throw new StorageError(
      "foreign",
      `data directory ${location} is not empty and is not a Sluice data directory (found: ${shown})`,
    );
  }
  if (entries.some((name) => PRE_CURRENT_FILES.has(name))) {
    logger?.warn({ location }, "the creation of this data directory was interrupted; creating it again");
  }
}

async function createDirectory(location: string): Promise<void> {
  try {
    await mkdir(location, { recursive: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code === "ENOSPC" ? "full" : "io";
    throw new StorageError(code, `cannot create data directory ${location}: ${String(err)}`, { cause: err });
  }
}

/**
 * Accepts our marker, writes it into an empty database, upgrades a v1
 * marker (before anything of v2 is written), refuses the rest.
 */
async function checkFormat(db: LevelDb, location: string, logger: OpenLogger | undefined): Promise<void> {
  const marker = await db.get(FORMAT_KEY);
  if (marker !== undefined) {
    const found = new TextDecoder().decode(marker);
    if (found === LEVEL_STORAGE_FORMAT) return;
    if (found === LEVEL_STORAGE_FORMAT_V1) {
      logger?.warn({ location }, `upgrading data directory to ${LEVEL_STORAGE_FORMAT}; earlier versions will refuse to open it`);
      await db.put(FORMAT_KEY, new TextEncoder().encode(LEVEL_STORAGE_FORMAT), { sync: true });
      return;
    }
    throw new StorageError(
      "foreign",
      `data directory ${location} holds storage format ${JSON.stringify(found.slice(0, 64))}, ` +
        `not ${JSON.stringify(LEVEL_STORAGE_FORMAT)}`,
    );
  }
  const [firstKey] = await db.keys({ limit: 1 }).all();
  if (firstKey !== undefined) {
    throw new StorageError(
      "foreign",
      `data directory ${location} is a LevelDB database that Sluice did not create ` +
        `(no format marker; first key ${keyHex(firstKey.subarray(0, 32))})`,
    );
  }
  await db.put(FORMAT_KEY, new TextEncoder().encode(LEVEL_STORAGE_FORMAT), { sync: true });
}
