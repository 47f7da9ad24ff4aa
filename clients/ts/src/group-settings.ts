import { create } from "@bufbuild/protobuf";
import { durationFromMs, durationMs, type Duration } from "@bufbuild/protobuf/wkt";
import { Code } from "./code.js";
import { GroupSettingsSchema, type GroupSettings as GroupSettingsMessage } from "./gen/sluice/v1/message_pb.js";
import { SluiceError } from "./sluice-error.js";

/**
 * Exponential backoff with jitter before a message is redelivered after a
 * nack without a delay or an expired lease: attempt n waits a random time
 * between half and all of `min(maxMs, minMs * 2^(n-1))`. Both 0 to 600 000 ms,
 * `minMs <= maxMs`; `{ minMs: 0, maxMs: 0 }` redelivers at once.
 */
export interface RetryBackoff {
  /** The first wait, in ms. */
  minMs: number;
  /** The largest wait, in ms. */
  maxMs: number;
}

/**
 * Settings of a consumer group. When a group is created (`createGroup`, or a
 * `subscribe` that creates it), an omitted field takes the broker's default;
 * in `updateGroup`, only the fields given change. The broker validates the
 * ranges and rejects bad values with INVALID_ARGUMENT.
 */
export interface GroupSettings {
  /** How long a delivered message stays leased before redelivery, in ms (1 000 to 600 000). Default 30 000. */
  ackDeadlineMs?: number;
  /**
   * Deliver the messages of one key in offset order, one at a time: the next
   * message of a key is delivered only once the previous one is acked or
   * dead-lettered. Messages without a key are not constrained; different
   * keys still spread over the group's consumers. Default `false`.
   */
  ordered?: boolean;
  /** The wait before a redelivery. Default: none (at once). */
  retryBackoff?: RetryBackoff;
  /**
   * After this many deliveries without an ack, a message is dead-lettered:
   * published to `deadLetterTopic` (if set) with headers naming its origin,
   * then counted as acknowledged. 0 (the default) is unlimited.
   */
  maxDeliveries?: number;
  /**
   * The topic dead-lettered messages go to; it must exist and differ from
   * the group's topic. `""` (the default): they are dropped and counted.
   */
  deadLetterTopic?: string;
}

/** A whole number of ms (0 to 2^53), for a `Duration`; throws INVALID_ARGUMENT otherwise. @internal */
export function durationField(field: string, ms: number): Duration {
  if (!Number.isFinite(ms) || ms < 0) {
    throw new SluiceError(Code.InvalidArgument, `${field} must be a non-negative number of ms, got ${ms}`);
  }
  return durationFromMs(Math.round(ms));
}

function uint32Field(field: string, n: number): number {
  if (!Number.isInteger(n) || n < 0 || n > 0xffff_ffff) {
    throw new SluiceError(Code.InvalidArgument, `${field} must be an integer from 0 to 4294967295, got ${n}`);
  }
  return n;
}

/**
 * The wire form of group settings, with only the given fields set (so it
 * serves create and update alike); `undefined` when none is given. Throws a
 * {@link SluiceError} (INVALID_ARGUMENT) for a value that has no wire form.
 * @internal
 */
export function groupSettingsMessage(s: GroupSettings | undefined): GroupSettingsMessage | undefined {
  if (s === undefined) return undefined;
  const m = create(GroupSettingsSchema);
  let any = false;
  if (s.ackDeadlineMs !== undefined) {
    m.ackDeadline = durationField("ackDeadlineMs", s.ackDeadlineMs);
    any = true;
  }
  if (s.ordered !== undefined) {
    m.ordered = s.ordered;
    any = true;
  }
  if (s.retryBackoff !== undefined) {
    m.retryBackoff = {
      $typeName: "sluice.v1.RetryBackoff",
      min: durationField("retryBackoff.minMs", s.retryBackoff.minMs),
      max: durationField("retryBackoff.maxMs", s.retryBackoff.maxMs),
    };
    any = true;
  }
  if (s.maxDeliveries !== undefined) {
    m.maxDeliveries = uint32Field("maxDeliveries", s.maxDeliveries);
    any = true;
  }
  if (s.deadLetterTopic !== undefined) {
    m.deadLetterTopic = s.deadLetterTopic;
    any = true;
  }
  return any ? m : undefined;
}

/** Group settings as a broker reported them, with the wire defaults filled in. */
export interface GroupSettingsInfo {
  /** The ack deadline in ms, if the broker reported one. */
  ackDeadlineMs: number | undefined;
  /** Whether each key is delivered in order, one message at a time. */
  ordered: boolean;
  /** The retry backoff, if the broker reported one (`{ 0, 0 }`: at once). */
  retryBackoff: RetryBackoff | undefined;
  /** Deliveries before a message is dead-lettered; 0 is unlimited. */
  maxDeliveries: number;
  /** Where dead-lettered messages go; `""`: dropped. */
  deadLetterTopic: string;
}

/** The readable form of reported settings. @internal */
export function groupSettingsInfo(s: GroupSettingsMessage | undefined): GroupSettingsInfo {
  const backoff = s?.retryBackoff;
  return {
    ackDeadlineMs: s?.ackDeadline ? durationMs(s.ackDeadline) : undefined,
    ordered: s?.ordered ?? false,
    retryBackoff: backoff
      ? { minMs: backoff.min ? durationMs(backoff.min) : 0, maxMs: backoff.max ? durationMs(backoff.max) : 0 }
      : undefined,
    maxDeliveries: s?.maxDeliveries ?? 0,
    deadLetterTopic: s?.deadLetterTopic ?? "",
  };
}
