import { create } from "@bufbuild/protobuf";
import type { ReconnectOptions } from "./backoff.js";
import { SubscribeRequestSchema, type SubscribeRequest } from "./gen/sluice/v1/broker_pb.js";
import { groupSettingsMessage, type GroupSettings } from "./group-settings.js";
import { startPositionMessage, type StartPosition } from "./start-position.js";

/**
 * Options of {@link SluiceClient.subscribe}; every field has a default. The
 * {@link GroupSettings} (`ackDeadlineMs`, `ordered`, `retryBackoff`,
 * `maxDeliveries`, `deadLetterTopic`) and `start` apply only when this
 * subscription creates the group; an existing group keeps its own (change
 * them with `updateGroup`).
 */
export interface SubscribeOptions extends GroupSettings {
  /** The most unacknowledged messages this subscription holds. Default: the broker's (100). */
  maxInFlight?: number;
  /** A name shown by `getGroup` for this consumer. */
  consumerName?: string;
  /** Where the group starts, if this subscription creates it. Default `"earliest"`. */
  start?: StartPosition;
  /**
   * Leases of messages held (buffered or being processed) are extended
   * automatically before they run out, for up to this long after delivery,
   * in ms; 0 turns automatic extension off. Default 600 000 (10 minutes).
   */
  maxLeaseMs?: number;
  /**
   * Durable acks: `message.ack()` then returns a promise that resolves once
   * the broker confirmed the ack durable (acks written together share one
   * confirmation), and rejects with a {@link SluiceError} when the stream
   * breaks or the subscription closes before that: the ack may then be lost
   * and the message redelivered. `close()` waits for pending confirmations.
   * Default `false`: `ack()` resolves at once (fire-and-forget).
   */
  confirmAcks?: boolean;
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

/** The `open` request of a subscription with `options`. Throws INVALID_ARGUMENT for settings with no wire form. @internal */
export function subscribeOpenRequest(topic: string, group: string, options: SubscribeOptions): SubscribeRequest {
  return create(SubscribeRequestSchema, {
    request: {
      case: "open",
      value: {
        topic,
        group,
        maxInFlight: options.maxInFlight ?? 0,
        start: startPositionMessage(options.start),
        settings: groupSettingsMessage(options),
        consumerName: options.consumerName ?? "",
        ackConfirmations: options.confirmAcks ?? false,
      },
    },
  });
}
