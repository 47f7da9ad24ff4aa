import { EventEmitter } from "node:events";
import { type FSWatcher, watch } from "node:fs";
import path from "node:path";
import type { Logger } from "../../broker/logger.js";
import { SecurityConfigError } from "./security-config-error.js";
import { type AccessTable, parseTokensFile, readTokensFile, readTokensText } from "./tokens-file.js";

/** How a reload went. A failed one leaves the previous table in force. */
export type ReloadOutcome =
  | { readonly ok: true; readonly identities: number }
  | { readonly ok: false; readonly error: SecurityConfigError };

/** Events of an {@link AccessStore}. */
export interface AccessStoreEvents {
  /** After every reload that read new content, or was asked for explicitly (SIGHUP, {@link AccessStore.reload}). */
  reload: [ReloadOutcome];
}

/** How long the file must stay quiet before a change is read: editors write in several steps. */
const DEBOUNCE_MS = 100;

/**
 * The tokens file in force. {@link open} refuses a bad file; afterwards
 * {@link reload} (on SIGHUP) and the file watch replace the table only with
 * a valid one, logging and keeping the old one otherwise. Calls already in
 * progress were authorised by the table of their start; open streams are
 * re-checked by the authorization layer on every reload.
 */
export class AccessStore extends EventEmitter<AccessStoreEvents> {
  #table: AccessTable;
  #seenText: string;
  #chain: Promise<unknown> = Promise.resolve();
  #watcher: FSWatcher | undefined;
  #timer: NodeJS.Timeout | undefined;

  private constructor(
    /** The tokens file's path. */
    readonly file: string,
    private readonly logger: Logger,
    loaded: { text: string; table: AccessTable },
  ) {
    super();
    this.#table = loaded.table;
    this.#seenText = loaded.text;
  }

  /**
   * Reads `file`.
   * @throws SecurityConfigError when it is missing or invalid: the broker must not start.
   */
  static async open(file: string, logger: Logger): Promise<AccessStore> {
    return new AccessStore(file, logger, await readTokensFile(file));
  }

  /** The table in force. */
  get table(): AccessTable {
    return this.#table;
  }

  /**
   * Reads the file again and, if valid, puts it in force; resolves with the
   * outcome (never rejects) and emits it as `reload`. Reloads run one at a time.
   */
  reload(): Promise<ReloadOutcome> {
    return this.#enqueue(true);
  }

  /**
   * Reloads when the file changes (watching its directory, so editors that
   * replace the file and Kubernetes ConfigMap symlink swaps are seen too),
   * after {@link DEBOUNCE_MS} of quiet; content that did not change is
   * ignored. Without a working watch, SIGHUP still reloads.
   */
  watch(): void {
    if (this.#watcher !== undefined) return;
    try {
      this.#watcher = watch(path.dirname(this.file), { persistent: false }, () => this.#schedule());
      this.#watcher.on("error", (err) => this.logger.warn({ err, file: this.file }, "tokens file watch failed; reload with SIGHUP"));
    } catch (err) {
      this.logger.warn({ err, file: this.file }, "cannot watch the tokens file; reload with SIGHUP");
    }
  }

  /** Stops watching. */
  close(): void {
    this.#watcher?.close();
    this.#watcher = undefined;
    clearTimeout(this.#timer);
  }

  #schedule(): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.#enqueue(false), DEBOUNCE_MS);
    this.#timer.unref();
  }

  #enqueue(explicit: boolean): Promise<ReloadOutcome> {
    const run = this.#chain.then(() => this.#load(explicit));
    this.#chain = run;
    return run.then((outcome) => outcome ?? { ok: true, identities: this.#table.identities.length });
  }

  /** Undefined when a watch event found content already seen (nothing to say). */
  async #load(explicit: boolean): Promise<ReloadOutcome | undefined> {
    let outcome: ReloadOutcome;
    try {
      const text = await readTokensText(this.file);
      if (!explicit && text === this.#seenText) return undefined;
      // Remembered even when invalid, so a bad file is reported once, not on every watch event.
      this.#seenText = text;
      const table = parseTokensFile(text, this.file);
      this.#table = table;
      outcome = { ok: true, identities: table.identities.length };
      this.logger.info({ file: this.file, identities: table.identities.length }, "tokens file reloaded");
    } catch (err) {
      const error = err instanceof SecurityConfigError ? err : new SecurityConfigError(`tokens file ${this.file}: ${String(err)}`);
      outcome = { ok: false, error };
      this.logger.error({ file: this.file, reason: error.message }, "tokens file not reloaded; the previous one stays in force");
    }
    this.emit("reload", outcome);
    return outcome;
  }
}
