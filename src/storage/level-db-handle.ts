/**
 * The LevelDB database of a {@link LevelStorage}: opening and closing it,
 * and holding writes back after a failed one until it is reopened.
 */

import { toStorageError } from "./level-errors.js";
import { UNUSED_KEY } from "./level-keys.js";
import { type OpenLogger, openLevelDb } from "./level-open.js";
import { reopenRoom } from "./level-reopen.js";
import type { LevelDb } from "./level-write-batch.js";
import { StorageError } from "./storage.js";

/**
 * The open database of one data directory, or none. After a failed write
 * ({@link writeFailed}) nothing is written until the database was closed and
 * opened again (see `level-reopen.ts`); {@link writable} does that once the
 * disk has room. Every method reports failures as {@link StorageError}.
 */
export class LevelDbHandle {
  readonly #location: string;
  readonly #logger: OpenLogger | undefined;
  #db: LevelDb | undefined;
  #opening: Promise<void> | undefined;
  /**
   * The first failed write since the database was opened. LevelDB's log may
   * now end in a torn record that would hide every later write from crash
   * recovery, so nothing is written until the database is reopened.
   */
  #torn: StorageError | undefined;
  #reopening: Promise<void> | undefined;

  constructor(location: string, logger: OpenLogger | undefined) {
    this.#location = location;
    this.#logger = logger;
  }

  /** Opens the database (see `LevelStorage.open`); resolves at once when open, and concurrent calls share one open. */
  async open(): Promise<void> {
    if (this.#db !== undefined) return;
    this.#opening ??= openLevelDb(this.#location, this.#logger)
      .then((db) => {
        this.#db = db;
      })
      .finally(() => {
        this.#opening = undefined;
      });
    return this.#opening;
  }

  /** Closes the database. Idempotent; waits for an open or reopen in progress. */
  async close(): Promise<void> {
    await this.#opening?.catch(() => undefined);
    await this.#reopening?.catch(() => undefined);
    const db = this.#db;
    this.#db = undefined;
    if (db === undefined) return;
    try {
      // Flush the memtable, so that the next open does not replay the
      // write-ahead log (up to the write buffer plus one batch of several MB
      // under load): replaying 36 MB left ~38 MB resident in the next process
      // (measured). Only an optimisation: a failure here shows again in
      // close() or the next open.
      await db.compactRange(UNUSED_KEY, UNUSED_KEY).catch(() => undefined);
      await db.close();
    } catch (err) {
      throw toStorageError(err, `closing data directory ${this.#location}`);
    }
  }

  /**
   * The open database. @throws StorageError `unavailable` (naming `action`)
   * when it is not open; after a reopen that failed, another starts.
   */
  require(action: string): LevelDb {
    if (this.#db === undefined) {
      // A reopen that failed (no room yet) left the database closed: try again.
      if (this.#torn !== undefined && this.#reopening === undefined) {
        this.#reopening = this.#reopen(action)
          .catch(() => undefined)
          .finally(() => (this.#reopening = undefined));
      }
      throw new StorageError("unavailable", `storage is not open (${action})`);
    }
    return this.#db;
  }

  /**
   * The database to write to: after a failed write, only once it was
   * reopened. Rejects with `full` (or `io`) while the disk lacks the room a
   * reopen needs, `unavailable` when not open.
   */
  async writable(action: string): Promise<LevelDb> {
    if (this.#torn !== undefined) {
      this.#reopening ??= this.#reopen(action).finally(() => (this.#reopening = undefined));
      await this.#reopening;
    }
    return this.require(action);
  }

  /** Records a failed write (a `full` or `io` one holds writes back); returns the error for throwing. */
  writeFailed(err: StorageError): StorageError {
    if ((err.code === "full" || err.code === "io") && this.#torn === undefined && this.#db !== undefined) {
      this.#torn = err;
      this.#logger?.warn({ err, location: this.#location }, "a write failed; writing resumes once the data directory is reopened");
    }
    return err;
  }

  /**
   * Closes and opens the database, which starts a new LevelDB log, once the
   * disk has room for it. Until then rejects with `full`. Reads in progress
   * fail with `unavailable` while it reopens.
   */
  async #reopen(action: string): Promise<void> {
    const torn = this.#torn!;
    const { free, needed } = await reopenRoom(this.#location).catch(() => ({ free: 0, needed: 1 }));
    if (free < needed) {
      throw new StorageError(
        torn.code === "full" ? "full" : "io",
        `${action}: writing is suspended after a failed write (${torn.message}) until ${needed} bytes are free; ${free} are`,
        { cause: torn },
      );
    }
    const db = this.#db;
    this.#db = undefined;
    await db?.close().catch(() => undefined);
    this.#db = await openLevelDb(this.#location, this.#logger);
    this.#torn = undefined;
    this.#logger?.warn({ location: this.#location }, "reopened the data directory after a failed write; writing again");
  }
}
