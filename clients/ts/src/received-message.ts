import { timestampDate } from "@bufbuild/protobuf/wkt";
import { Code } from "./code.js";
import type { Delivery } from "./gen/sluice/v1/broker_pb.js";
import { decodeJson, decodeText } from "./payload.js";
import { SluiceError } from "./sluice-error.js";

/** Where a message's verbs go: the subscription that received it. @internal */
export interface Settler {
  ack(message: ReceivedMessage): void;
  /** `delayMs` is negative when the caller gave none. */
  nack(message: ReceivedMessage, delayMs: number): void;
  extend(message: ReceivedMessage, deadlineMs: number): void;
}

/**
 * A message delivered by a subscription, leased to it until it is settled
 * with `ack()` or `nack()` or its lease runs out. The verbs are
 * fire-and-forget: they are coalesced with other messages' and written to
 * the stream on the next event-loop turn. Only the first `ack`/`nack` counts.
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
  /** When the broker stored the message. */
  readonly publishTime: Date | undefined;
  /** The publisher's message id, `""` when none. */
  readonly messageId: string;
  /** 1 on first delivery to the group, one more on each redelivery. */
  readonly attempt: number;
  /** The stream it came on. @internal */
  readonly generation: number;
  readonly #settler: Settler;
  #settled = false;

  /** @internal Created by the subscription. */
  constructor(delivery: Delivery, generation: number, settler: Settler) {
    const m = delivery.message;
    this.topic = m?.topic ?? "";
    this.partition = m?.partition ?? 0;
    this.offset = m?.offset ?? 0n;
    this.key = m?.key ?? "";
    this.payload = m?.payload ?? new Uint8Array(0);
    this.headers = m?.headers ?? {};
    this.publishTime = m?.publishTime ? timestampDate(m.publishTime) : undefined;
    this.messageId = m?.messageId ?? "";
    this.attempt = delivery.attempt;
    this.generation = generation;
    this.#settler = settler;
  }

  /** Whether `ack()` or `nack()` was called. */
  get settled(): boolean {
    return this.#settled;
  }

  /** The payload decoded as UTF-8. */
  text(): string {
    return decodeText(this.payload);
  }

  /** The payload parsed as UTF-8 JSON; throws a {@link SluiceError} (INVALID_ARGUMENT) when it is not JSON. */
  json<T = unknown>(): T {
    return decodeJson<T>(this.payload);
  }

  /** Acknowledges the message: the group never gets it again. */
  ack(): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#settler.ack(this);
  }

  /**
   * Gives the message back for redelivery: after `delayMs` (0 to 600 000)
   * when given, else after the group's retry backoff (at once when the group
   * has none). Throws a {@link SluiceError} (INVALID_ARGUMENT) for a delay
   * out of range.
   */
  nack(delayMs?: number): void {
    if (delayMs !== undefined && (!Number.isFinite(delayMs) || delayMs < 0 || delayMs > 600_000)) {
      throw new SluiceError(Code.InvalidArgument, `nack delay must be 0 to 600000 ms, got ${delayMs}`);
    }
    if (this.#settled) return;
    this.#settled = true;
    this.#settler.nack(this, delayMs === undefined ? -1 : Math.round(delayMs));
  }

  /**
   * Extends the lease to `ms` from now (1 000 to 600 000), for work that
   * needs longer than the subscription's automatic extension allows. Ignored
   * once settled. Throws a {@link SluiceError} (INVALID_ARGUMENT) out of range.
   */
  extend(ms: number): void {
    if (!Number.isFinite(ms) || ms < 1000 || ms > 600_000) {
      throw new SluiceError(Code.InvalidArgument, `lease extension must be 1000 to 600000 ms, got ${ms}`);
    }
    if (this.#settled) return;
    this.#settler.extend(this, Math.round(ms));
  }
}
