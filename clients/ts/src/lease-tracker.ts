/** The broker's bounds on a lease extension, in ms. */
const MIN_EXTEND_MS = 1000;
const MAX_EXTEND_MS = 600_000;

interface Lease {
  receivedAt: number;
  expiresAt: number;
}

/**
 * Tracks the leases of messages a subscription holds (buffered or being
 * processed) and says which to extend: a lease is extended when less than
 * half an ack deadline is left, by one ack deadline (within the broker's 1 s
 * to 600 s), until the message has been held `maxLeaseMs`; after that it is
 * dropped and left to expire, so a stuck handler cannot hold a message
 * forever. Time is passed in, so the tracker is pure.
 * @internal
 */
export class LeaseTracker<T> {
  readonly #leases = new Map<T, Lease>();

  /**
   * @param ackDeadlineMs - the group's ack deadline (updatable when the broker reports it)
   * @param maxLeaseMs - the longest a message is kept leased by extensions
   */
  constructor(
    public ackDeadlineMs: number,
    readonly maxLeaseMs: number,
  ) {}

  /** Messages tracked. */
  get size(): number {
    return this.#leases.size;
  }

  /** Starts tracking a message delivered at `now`. */
  add(item: T, now: number): void {
    this.#leases.set(item, { receivedAt: now, expiresAt: now + this.ackDeadlineMs });
  }

  /** Stops tracking a message (settled). */
  delete(item: T): void {
    this.#leases.delete(item);
  }

  /** Notes an explicit extension to `ms` from `now`. */
  extended(item: T, now: number, ms: number): void {
    const lease = this.#leases.get(item);
    if (lease) lease.expiresAt = now + ms;
  }

  /** Stops tracking everything (the stream ended: the leases are gone). */
  clear(): void {
    this.#leases.clear();
  }

  /**
   * The messages to extend at `now`, each with its extension in ms; their
   * expiry is moved accordingly. Messages held `maxLeaseMs` or longer are
   * dropped instead.
   */
  due(now: number): { item: T; extendMs: number }[] {
    const result: { item: T; extendMs: number }[] = [];
    const threshold = this.ackDeadlineMs / 2;
    for (const [item, lease] of this.#leases) {
      if (lease.expiresAt - now > threshold) continue;
      const left = lease.receivedAt + this.maxLeaseMs - now;
      if (left <= 0) {
        this.#leases.delete(item);
        continue;
      }
      const extendMs = Math.round(Math.min(MAX_EXTEND_MS, Math.max(MIN_EXTEND_MS, Math.min(this.ackDeadlineMs, left))));
      lease.expiresAt = now + extendMs;
      result.push({ item, extendMs });
    }
    return result;
  }
}
