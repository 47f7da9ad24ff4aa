import type { SluiceError } from "./sluice-error.js";

/**
 * The state of the stream behind a publisher or subscription, reported on its
 * `status()` iterable, apart from the data:
 * - `connected`: the stream is open and the broker answered on it;
 * - `disconnected`: the stream broke, with the error that broke it (once per
 *   lost connection, not per failed attempt);
 * - `reconnecting`: attempt number `attempt` starts after `delayMs`.
 */
export type ConnectionStatus =
  | { readonly type: "connected" }
  | { readonly type: "disconnected"; readonly error: SluiceError }
  | { readonly type: "reconnecting"; readonly attempt: number; readonly delayMs: number };

/** How many events a slow status reader may fall behind before the oldest are dropped. */
const MAX_BACKLOG = 64;

/**
 * Fans status events out to any number of async-iterable readers. A reader
 * sees the events emitted after it started iterating; each reader's backlog
 * is bounded (the oldest events are dropped), so an unread status iterable
 * never grows memory. `end()` finishes every reader.
 * @internal
 */
export class StatusChannel {
  readonly #readers = new Set<Reader>();
  #ended = false;
  #last: ConnectionStatus | undefined;

  /** The most recent event, if any. */
  get last(): ConnectionStatus | undefined {
    return this.#last;
  }

  /** Delivers `status` to every reader. Ignored after `end()`. */
  emit(status: ConnectionStatus): void {
    if (this.#ended) return;
    this.#last = status;
    for (const reader of this.#readers) reader.push(status);
  }

  /** Finishes every reader; later readers finish at once. */
  end(): void {
    this.#ended = true;
    for (const reader of this.#readers) reader.finish();
    this.#readers.clear();
  }

  /** A new reader of the events emitted from now on. */
  iterate(): AsyncIterableIterator<ConnectionStatus> {
    const reader = new Reader(() => this.#readers.delete(reader));
    if (this.#ended) reader.finish();
    else this.#readers.add(reader);
    return reader;
  }
}

class Reader implements AsyncIterableIterator<ConnectionStatus> {
  readonly #backlog: ConnectionStatus[] = [];
  #waiting: ((r: IteratorResult<ConnectionStatus>) => void) | undefined;
  #done = false;

  constructor(private readonly detach: () => void) {}

  push(status: ConnectionStatus): void {
    if (this.#waiting) {
      const resolve = this.#waiting;
      this.#waiting = undefined;
      resolve({ value: status, done: false });
      return;
    }
    this.#backlog.push(status);
    if (this.#backlog.length > MAX_BACKLOG) this.#backlog.shift();
  }

  finish(): void {
    this.#done = true;
    if (this.#waiting) {
      const resolve = this.#waiting;
      this.#waiting = undefined;
      resolve({ value: undefined, done: true });
    }
  }

  next(): Promise<IteratorResult<ConnectionStatus>> {
    const value = this.#backlog.shift();
    if (value !== undefined) return Promise.resolve({ value, done: false });
    if (this.#done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => (this.#waiting = resolve));
  }

  return(): Promise<IteratorResult<ConnectionStatus>> {
    this.#backlog.length = 0;
    this.finish();
    this.detach();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<ConnectionStatus> {
    return this;
  }
}
