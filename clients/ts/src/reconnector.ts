import { backoffDelay, type ReconnectOptions } from "./backoff.js";
import { isRetryable } from "./bidi-stream.js";
import type { StatusChannel } from "./connection-status.js";
import type { Logger } from "./logger.js";
import type { SluiceError } from "./sluice-error.js";

/**
 * The dial loop shared by publishers and subscriptions: counts consecutive
 * failures, decides whether to try again, waits the jittered backoff before
 * each new attempt, and reports every step on the status channel and the log.
 * @internal
 */
export class Reconnector {
  #failures = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly options: ReconnectOptions,
    private readonly status: StatusChannel,
    private readonly logger: Logger,
    private readonly context: Record<string, unknown>,
  ) {}

  /** Consecutive failed attempts since the last success. */
  get failures(): number {
    return this.#failures;
  }

  /** Whether an attempt is scheduled. */
  get scheduled(): boolean {
    return this.#timer !== undefined;
  }

  /** The stream works (the broker answered on it): resets the count, reports `connected`. */
  succeeded(): void {
    const recovered = this.#failures > 0 || this.status.last?.type !== "connected";
    this.#failures = 0;
    if (recovered) {
      this.status.emit({ type: "connected" });
      this.logger.debug(this.context, "sluice stream connected");
    }
  }

  /**
   * The stream broke with `error` (or an attempt failed): reports
   * `disconnected` once per lost connection (later failed attempts show as
   * further `reconnecting` events and in the log) and returns whether
   * to try again (`false` for an error retrying cannot fix, or once
   * `maxAttempts` consecutive attempts failed; the count then starts over).
   */
  failed(error: SluiceError): boolean {
    if (this.status.last?.type !== "disconnected" && this.status.last?.type !== "reconnecting") {
      this.status.emit({ type: "disconnected", error });
    }
    this.#failures++;
    const retry = isRetryable(error) && this.#failures <= this.options.maxAttempts;
    this.logger.warn({ ...this.context, code: error.code, err: error.message, failures: this.#failures, retry }, "sluice stream broke");
    if (!retry) this.#failures = 0;
    return retry;
  }

  /**
   * Runs `attempt` now when nothing failed, else after the backoff delay
   * (reporting `reconnecting`). At most one attempt is scheduled at a time.
   */
  schedule(attempt: () => void): void {
    if (this.#timer !== undefined) return;
    if (this.#failures === 0) {
      attempt();
      return;
    }
    const delayMs = backoffDelay(this.#failures, this.options);
    this.status.emit({ type: "reconnecting", attempt: this.#failures, delayMs });
    this.logger.info({ ...this.context, attempt: this.#failures, delayMs }, "sluice stream reconnecting");
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      attempt();
    }, delayMs);
  }

  /** Cancels a scheduled attempt. */
  cancel(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
