/**
 * The wait before redelivering a message whose `attempt`-th delivery failed:
 * exponential from `minMs`, capped at `maxMs`, with "equal jitter" (a random
 * point in the upper half) so that a burst of failures does not come back as
 * a burst. `random` returns a number in [0, 1).
 */
export function retryDelay(attempt: number, minMs: number, maxMs: number, random: () => number = Math.random): number {
  if (maxMs <= 0) return 0;
  const exp = minMs * 2 ** Math.max(0, attempt - 1);
  const cap = Math.min(maxMs, Number.isFinite(exp) ? exp : maxMs);
  return Math.round(cap / 2 + random() * (cap / 2));
}
