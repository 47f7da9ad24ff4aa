/**
 * How long to wait between reconnection attempts: exponential growth from
 * `initialDelayMs` by `multiplier`, capped at `maxDelayMs`, each delay
 * shortened by a random fraction of up to `jitter` so that many clients that
 * lost the same broker do not come back in lockstep.
 */
export interface BackoffOptions {
  /** The delay before the first retry, in ms. Default 100. */
  initialDelayMs: number;
  /** The longest delay, in ms. Default 5000. */
  maxDelayMs: number;
  /** The growth factor per attempt. Default 2. */
  multiplier: number;
  /** The largest fraction (0 to 1) taken off a delay at random. Default 0.5. */
  jitter: number;
}

/** Reconnection policy: a backoff plus a bound on consecutive failed attempts. */
export interface ReconnectOptions extends BackoffOptions {
  /**
   * Consecutive failed attempts after which the publisher or subscription
   * gives up and fails with the last error. Default `Infinity`.
   */
  maxAttempts: number;
}

/** The default reconnection policy: 100 ms doubling to 5 s, 50 % jitter, unbounded attempts. */
export const defaultReconnect: Readonly<ReconnectOptions> = Object.freeze({
  initialDelayMs: 100,
  maxDelayMs: 5000,
  multiplier: 2,
  jitter: 0.5,
  maxAttempts: Infinity,
});

/**
 * The delay before retry number `attempt` (1 for the first retry).
 *
 * Pure: the randomness comes from `random` (a function returning [0, 1)), so
 * tests pass a fixed one. The result is always within
 * `[base * (1 - jitter), base]` where `base = min(maxDelayMs,
 * initialDelayMs * multiplier^(attempt - 1))`; never negative, never above
 * `maxDelayMs`.
 */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions = defaultReconnect,
  random: () => number = Math.random,
): number {
  const n = Math.max(1, Math.floor(attempt));
  const exp = options.initialDelayMs * Math.pow(options.multiplier, n - 1);
  const base = Math.max(0, Math.min(options.maxDelayMs, Number.isFinite(exp) ? exp : options.maxDelayMs));
  const jitter = Math.min(1, Math.max(0, options.jitter));
  return Math.round(base * (1 - jitter * random()));
}

/** Fills the missing fields of a partial reconnection policy with the defaults. */
export function reconnectOptions(partial: Partial<ReconnectOptions> | undefined): ReconnectOptions {
  return { ...defaultReconnect, ...partial };
}
