import type { ReconnectOptions } from "./backoff.js";
import type { StartPosition } from "./start-position.js";

/** Options of {@link SluiceClient.subscribe}; every field has a default. */
export interface SubscribeOptions {
  /** The most unacknowledged messages this subscription holds. Default: the broker's (1000). */
  maxInFlight?: number;
  /** A name shown by `getGroup` for this consumer. */
  consumerName?: string;
  /** Where the group starts, if this subscription creates it. Default `"earliest"`. */
  start?: StartPosition;
  /** The group's ack deadline in ms, if this subscription creates it. Default: the broker's (30 000). */
  ackDeadlineMs?: number;
  /**
   * Leases of messages held (buffered or being processed) are extended
   * automatically before they run out, for up to this long after delivery,
   * in ms; 0 turns automatic extension off. Default 600 000 (10 minutes).
   */
  maxLeaseMs?: number;
  /** Closes the subscription when aborted (like `close()`). */
  signal?: AbortSignal;
  /** Reconnection policy; defaults to the client's. */
  reconnect?: Partial<ReconnectOptions>;
}

/** Options of {@link Subscription.process}. */
export interface ProcessOptions {
  /** How many messages are handled at once. Default 1. */
  concurrency?: number;
  /** The redelivery delay of a message whose handler threw, in ms. Default: the group's retry backoff. */
  nackDelayMs?: number;
}
