import { type Timestamp, timestampDate } from "@bufbuild/protobuf/wkt";
import { Code } from "./code.js";
import type { Delivery } from "./gen/sluice/v1/broker_pb.js";
import { decodeJson, decodeText } from "./payload.js";
import { SluiceError } from "./sluice-error.js";
import { settledNow } from "./waiter.js";

/**
 * Where a message's verbs go: the subscription stream that delivered it, or
 * the unary Ack/Nack/ExtendDeadline calls for a fetched message. Each verb
 * returns a promise that is marked handled (see `newWaiter`), so ignoring it
 * never causes an unhandled rejection.
 * @internal
 */
export interface Settler {
  ack(message: ReceivedMessage): Promise<void>;
  /** `delayMs` is negative when the caller gave none. */
  nack(message: ReceivedMessage, delayMs: number): Promise<void>;
  extend(message: ReceivedMessage, deadlineMs: number): Promise<void>;
}

/**
 * A message delivered to a consumer group, leased to its consumer until it is
 * settled with `ack()` or `nack()` or its lease runs out. The same type comes
 * from a {@link Subscription} and from `client.fetch()`; only where its verbs
 * go differs:
 *
 * - From a subscription, verbs are coalesced with other messages' and written
 *   to the stream on the next event-loop turn. Their promises resolve at once
 *   (fire-and-forget), except `ack()` on a subscription opened with
 *   `confirmAcks`, which resolves once the broker confirmed the ack durable.
 * - From `fetch()`, verbs of one event-loop turn are sent together as unary
 *   `Ack`, `Nack` and `ExtendDeadline` calls; their promises resolve when the
 *   broker answered (an `Ack` answers once durable).
 *
 * The promises may be ignored: a rejection is then not reported as
 * unhandled. Only the first `ack`/`nack` counts; later calls return its promise.
 */
export class ReceivedMessage {
  /** The topic. */
  readonly topic: string;
  /** The partition that holds the message. */
  readonly partition: number;
  /** Its offset in the partition. */
  readonly offset: bigint;
  /** The publisher's key, `""` when none. */
  readonly key: string;
  /** The payload bytes (see `text()` and `json()`). */
  readonly payload: Uint8Array;
  /** Application headers. */
  readonly headers: Readonly<Record<string, string>>;
  /** The publisher's message id, `""` when none. */
  readonly messageId: string;
  /** 1 on first delivery to the group, one more on each redelivery. */
  readonly attempt: number;
  /** The stream it came on; 0 for a fetched message. @internal */
  readonly generation: number;
  readonly #settler: Settler;
  #settlement: Promise<void> | undefined;
  readonly #stored: Timestamp | undefined;
  #publishTime: Date | undefined;

  /** @internal Created by a subscription or by `fetch`. */
  constructor(delivery: Delivery, generation: number, settler: Settler) {
    const m = delivery.message;
    this.topic = m?.topic ?? "";
    this.partition = m?.partition ?? 0;
    this.offset = m?.offset ?? 0n;
    this.key = m?.key ?? "";
    this.payload = m?.payload ?? new Uint8Array(0);
    this.headers = m?.headers ?? {};
    this.#stored = m?.publishTime;
    this.messageId = m?.messageId ?? "";
    this.attempt = delivery.attempt;
    this.generation = generation;
    this.#settler = settler;
  }

  /** When the broker stored the message (the Date is made on first use: most consumers never ask). */
  get publishTime(): Date | undefined {
    if (this.#publishTime === undefined && this.#stored !== undefined) this.#publishTime = timestampDate(this.#stored);
    return this.#publishTime;
  }

  /** Whether `ack()` or `nack()` was called. */
  get settled(): boolean {
    return this.#settlement !== undefined;
  }

  /** The payload decoded as UTF-8. */
  text(): string {
    return decodeText(this.payload);
  }

  /** The payload parsed as UTF-8 JSON; throws a {@link SluiceError} (INVALID_ARGUMENT) when it is not JSON. */
  json<T = unknown>(): T {
    return decodeJson<T>(this.payload);
  }

  /**
   * Acknowledges the message: the group never gets it again. The promise
   * resolves once the ack took effect as far as the client can tell: at once
   * on a plain subscription (the ack is queued for the stream); once the
   * broker confirmed it durable on a subscription with `confirmAcks` or for a
   * fetched message. It rejects with a {@link SluiceError} when that
   * confirmation cannot come (the stream broke, the subscription or client
   * closed, the call failed): the ack may then be lost, and the message
   * redelivered.
   */
  ack(): Promise<void> {
    this.#settlement ??= this.#settler.ack(this);
    return this.#settlement;
  }

  /**
   * Gives the message back for redelivery: after `delayMs` (0 to 600 000)
   * when given, else after the group's retry backoff (at once when the group
   * has none). Throws a {@link SluiceError} (INVALID_ARGUMENT) for a delay
   * out of range. The promise resolves at once on a subscription, and when
   * the broker answered for a fetched message.
   */
  nack(delayMs?: number): Promise<void> {
    if (delayMs !== undefined && (!Number.isFinite(delayMs) || delayMs < 0 || delayMs > 600_000)) {
      throw new SluiceError(Code.InvalidArgument, `nack delay must be 0 to 600000 ms, got ${delayMs}`);
    }
    this.#settlement ??= this.#settler.nack(this, delayMs === undefined ? -1 : Math.round(delayMs));
    return this.#settlement;
  }

  /**
   * Extends the lease to `ms` from now (1 000 to 600 000), for work that
   * needs longer than the subscription's automatic extension allows (fetched
   * messages are never extended automatically). Ignored once settled. Throws
   * a {@link SluiceError} (INVALID_ARGUMENT) out of range. The promise
   * resolves at once on a subscription, and when the broker answered for a
   * fetched message.
   */
  extend(ms: number): Promise<void> {
    if (!Number.isFinite(ms) || ms < 1000 || ms > 600_000) {
      throw new SluiceError(Code.InvalidArgument, `lease extension must be 1000 to 600000 ms, got ${ms}`);
    }
    if (this.#settlement) return settledNow;
    return this.#settler.extend(this, Math.round(ms));
  }
}
