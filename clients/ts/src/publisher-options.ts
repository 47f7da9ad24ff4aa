import type { ReconnectOptions } from "./backoff.js";

/** Options of a {@link Publisher}; every field has a default. */
export interface PublisherOptions {
  /** The most messages in one request. Default 1000. */
  maxBatchMessages?: number;
  /** The most bytes in one request (a larger single message goes alone). Default 1 MiB. */
  maxBatchBytes?: number;
  /** How long a batch that is not full waits for more messages, in ms; 0 waits one event-loop turn. Default 5. */
  lingerMs?: number;
  /**
   * The most bytes sent or batched but not yet confirmed. A `send` beyond it
   * waits (unencoded, in order) until confirmations make room; so does each
   * part of a `sendBatch`, which goes through in parts of at most this many
   * bytes. Default 64 MiB.
   */
  maxUnconfirmedBytes?: number;
  /** Give every message without a `messageId` a unique one, so resends can be deduplicated. Default true. */
  autoMessageId?: boolean;
  /** Reconnection policy; defaults to the client's. */
  reconnect?: Partial<ReconnectOptions>;
}

/** Publisher options with the defaults filled in and bounds applied. @internal */
export interface PublisherSettings {
  maxBatchMessages: number;
  maxBatchBytes: number;
  lingerMs: number;
  maxUnconfirmedBytes: number;
  autoMessageId: boolean;
}

/** Fills in the defaults of publisher options. @internal */
export function publisherSettings(options: PublisherOptions): PublisherSettings {
  return {
    maxBatchMessages: Math.max(1, Math.floor(options.maxBatchMessages ?? 1000)),
    maxBatchBytes: Math.max(1, options.maxBatchBytes ?? 1024 * 1024),
    lingerMs: Math.max(0, options.lingerMs ?? 5),
    maxUnconfirmedBytes: Math.max(1, options.maxUnconfirmedBytes ?? 64 * 1024 * 1024),
    autoMessageId: options.autoMessageId ?? true,
  };
}
