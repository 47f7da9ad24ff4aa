/**
 * Bytes of messages accepted for publishing and not yet durable, broker-wide,
 * against a limit. The publish path takes a publish's bytes when it accepts
 * it and gives them back once its write is done (or failed). Edges that can
 * stop reading (PublishStream) do so while the budget is spent and read on
 * once {@link room} resolves; requests they already read are accepted past
 * the limit, so one request larger than it still goes through.
 *
 * Without it a fast publisher fills the broker with everything its window
 * allows (64 MiB by default in the TypeScript client, per publisher) while
 * LevelDB writes at its own pace, and every write carries the whole backlog.
 */
export class PublishBudget {
  #used = 0;
  #room: { promise: Promise<void>; resolve: () => void } | undefined;

  /** @param limit bytes (each message counting what `RecordCodec.size` says) the broker holds before edges stop reading. */
  constructor(readonly limit: number) {}

  /** Bytes taken and not given back. */
  get used(): number {
    return this.#used;
  }

  /** Whether edges should stop reading new publishes. */
  get spent(): boolean {
    return this.#used >= this.limit;
  }

  take(bytes: number): void {
    this.#used += bytes;
  }

  give(bytes: number): void {
    this.#used -= bytes;
    if (this.#room !== undefined && !this.spent) {
      const { resolve } = this.#room;
      this.#room = undefined;
      resolve();
    }
  }

  /** Resolves once the budget is not spent (at once if it is not). */
  room(): Promise<void> {
    if (!this.spent) return Promise.resolve();
    if (this.#room === undefined) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      this.#room = { promise, resolve };
    }
    return this.#room.promise;
  }
}
