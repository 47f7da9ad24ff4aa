import type { Storage, WriteBatch } from "../storage/storage.js";
import type { BrokerError } from "./broker-error.js";
import { fromStorageError } from "./storage-errors.js";

/**
 * One unit of work for the {@link WriteQueue}: it adds its writes to the
 * shared batch when the batch is formed, and hears the outcome.
 */
export interface WriteTask {
  /** Adds writes to `batch`. Throwing fails this task alone. */
  build(batch: WriteBatch): void;
  /** Called once: without an error after the batch is durable, else with it. */
  done(error?: unknown): void;
}

/**
 * Group commit: every task submitted while a write is in flight (or in the
 * same event-loop turn) goes into one storage batch, written by one call.
 * Only one batch is in flight at a time, so tasks are applied in submission
 * order and offsets assigned in `build` stay dense even when a write fails.
 */
export class WriteQueue {
  #pending: WriteTask[] = [];
  #running: Promise<void> | null = null;
  #scheduled = false;

  constructor(
    private readonly storage: Storage,
    private readonly sync: boolean,
  ) {}

  /** Queues a task; the outcome arrives through `task.done`. */
  submit(task: WriteTask): void {
    this.#pending.push(task);
    if (this.#running || this.#scheduled) return;
    this.#scheduled = true;
    // setImmediate lets every request that arrived in this I/O phase join the batch.
    setImmediate(() => {
      this.#scheduled = false;
      this.#running ??= this.#run();
    });
  }

  /**
   * Queues `build` as a task of its own: resolves once its writes are
   * durable, rejects with a {@link BrokerError} (see `storage-errors.ts`)
   * when `build` throws or the batch's write fails.
   */
  write(build: (batch: WriteBatch) => void): Promise<void> {
    return new Promise((resolve, reject) => {
      this.submit({
        build,
        done: (err) => (err === undefined ? resolve() : reject(fromStorageError(err))),
      });
    });
  }

  /** Resolves once every task submitted so far has completed. */
  async drain(): Promise<void> {
    while (this.#running || this.#scheduled || this.#pending.length > 0) {
      if (this.#running) await this.#running;
      else await new Promise((r) => setImmediate(r));
    }
  }

  async #run(): Promise<void> {
    try {
      // Start in a later microtask: a run that awaited nothing (every task
      // failed to build, or none wrote anything) would otherwise reach
      // `finally` before the caller stored it in #running, leaving a settled
      // promise there that blocks every later write and spins drain().
      await undefined;
      while (this.#pending.length > 0) {
        const tasks = this.#pending;
        this.#pending = [];
        const batch = this.storage.batch();
        const built: WriteTask[] = [];
        for (const t of tasks) {
          try {
            t.build(batch);
            built.push(t);
          } catch (err) {
            t.done(err);
          }
        }
        if (built.length === 0) continue;
        let error: unknown;
        try {
          if (batch.length > 0) await batch.write({ sync: this.sync });
        } catch (err) {
          error = err ?? new Error("write failed");
        }
        for (const t of built) {
          try {
            t.done(error);
          } catch {
            // A task's completion handler must not stop the others.
          }
        }
      }
    } finally {
      this.#running = null;
    }
  }
}
