import { create } from "@bufbuild/protobuf";
import { type Duration, type Timestamp, timestampFromMs } from "@bufbuild/protobuf/wkt";
import { BrokerError } from "../broker/broker-error.js";
import type { Group as CoreGroup } from "../broker/group.js";
import { groupDetails } from "../broker/group-details.js";
import type { Topic as CoreTopic } from "../broker/topic.js";
import {
  type GroupSettings as CoreGroupSettings,
  MAX_ACK_DEADLINE_MS,
  MIN_ACK_DEADLINE_MS,
  type PartitionInfo,
  type StartPosition as CoreStart,
} from "../broker/types.js";
import {
  type Group,
  GroupPartitionSchema,
  GroupSchema,
  ConsumerSchema,
  type Topic,
  PartitionInfoSchema,
  TopicSchema,
} from "../../gen/sluice/v1/admin_pb.js";
import {
  type GroupSettings,
  GroupSettingsSchema,
  RetentionPolicySchema,
  type StartPosition,
  StartPosition_Kind,
} from "../../gen/sluice/v1/message_pb.js";

/** Milliseconds of a Duration; undefined when absent. @throws invalid-argument when negative or too long. */
export function durationMs(d: Duration | undefined, field: string): number | undefined {
  if (d === undefined) return undefined;
  const ms = Number(d.seconds) * 1000 + Math.floor(d.nanos / 1_000_000);
  if (ms < 0) throw new BrokerError("invalid-argument", `${field} must not be negative`);
  // Beyond this, milliseconds lose precision and storage refuses the value.
  if (!Number.isSafeInteger(ms)) throw new BrokerError("invalid-argument", `${field} is too long: ${d.seconds}s`);
  return ms;
}

function timestampMs(t: Timestamp): number {
  return Number(t.seconds) * 1000 + Math.floor(t.nanos / 1_000_000);
}

/** The core start position of a proto StartPosition (absent: earliest). */
export function startPosition(s: StartPosition | undefined): CoreStart {
  switch (s?.kind ?? StartPosition_Kind.UNSPECIFIED) {
    case StartPosition_Kind.UNSPECIFIED:
    case StartPosition_Kind.EARLIEST:
      return { kind: "earliest" };
    case StartPosition_Kind.LATEST:
      return { kind: "latest" };
    case StartPosition_Kind.OFFSET:
      return { kind: "offset", offset: s!.offset };
    case StartPosition_Kind.TIMESTAMP:
      if (s!.time === undefined) throw new BrokerError("invalid-argument", "start position KIND_TIMESTAMP needs `time`");
      return { kind: "timestamp", timeMs: timestampMs(s!.time) };
    default:
      throw new BrokerError("invalid-argument", `unknown start position kind ${s!.kind}`);
  }
}

/** The settings that are set in a proto GroupSettings (absent ones are left out). */
export function groupSettings(s: GroupSettings | undefined): Partial<CoreGroupSettings> {
  const out: { -readonly [K in keyof CoreGroupSettings]?: CoreGroupSettings[K] } = {};
  if (s === undefined) return out;
  const ackDeadlineMs = durationMs(s.ackDeadline, "ack_deadline");
  if (ackDeadlineMs !== undefined) out.ackDeadlineMs = ackDeadlineMs;
  if (s.ordered !== undefined) out.ordered = s.ordered;
  if (s.retryBackoff !== undefined) {
    out.retryBackoffMinMs = durationMs(s.retryBackoff.min, "retry_backoff.min") ?? 0;
    out.retryBackoffMaxMs = durationMs(s.retryBackoff.max, "retry_backoff.max") ?? out.retryBackoffMinMs;
  }
  if (s.maxDeliveries !== undefined) out.maxDeliveries = s.maxDeliveries;
  if (s.deadLetterTopic !== undefined) out.deadLetterTopic = s.deadLetterTopic;
  return out;
}

/** A Duration of `ms` milliseconds. */
export function duration(ms: number): { seconds: bigint; nanos: number } {
  return { seconds: BigInt(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1e6 };
}

/** The group's settings in force, as proto. */
export function settingsProto(g: CoreGroup): GroupSettings {
  const m = g.meta;
  return create(GroupSettingsSchema, {
    ackDeadline: duration(m.ackDeadlineMs),
    ordered: m.ordered,
    retryBackoff: { min: duration(m.retryBackoffMinMs), max: duration(m.retryBackoffMaxMs) },
    maxDeliveries: m.maxDeliveries,
    deadLetterTopic: m.deadLetterTopic,
  });
}

/** A nack delay: undefined when unset (the group's backoff applies); at most 600 s. */
export function nackDelay(d: Duration | undefined): number | undefined {
  const ms = durationMs(d, "nack delay");
  if (ms !== undefined && ms > MAX_ACK_DEADLINE_MS) {
    throw new BrokerError("invalid-argument", `nack delay must be at most 600s; got ${ms / 1000}s`);
  }
  return ms;
}

/** A lease extension: from 1 s to 600 s. */
export function extendDeadline(d: Duration | undefined): number {
  const ms = durationMs(d, "extend deadline") ?? 0;
  if (ms < MIN_ACK_DEADLINE_MS || ms > MAX_ACK_DEADLINE_MS) {
    throw new BrokerError("invalid-argument", `extend deadline must be between 1s and 600s; got ${ms / 1000}s`);
  }
  return ms;
}

/** The proto Topic; with `partitions` when given. */
export function topicProto(t: CoreTopic, partitions?: PartitionInfo[]): Topic {
  return create(TopicSchema, {
    name: t.name,
    partitionCount: t.partitions.length,
    retention: create(RetentionPolicySchema, {
      maxAge: duration(t.meta.retentionMaxAgeMs),
      maxBytes: t.meta.retentionMaxBytes,
    }),
    createTime: timestampFromMs(t.meta.createdAt),
    partitions: (partitions ?? []).map((p) =>
      create(PartitionInfoSchema, {
        partition: p.partition,
        startOffset: p.start,
        endOffset: p.end,
        bytes: p.bytes ?? 0n,
        oldestPublishTime: p.oldestPublishTimeMs === undefined ? undefined : timestampFromMs(p.oldestPublishTimeMs),
      }),
    ),
    dedupeWindow: duration(t.meta.dedupeWindowMs),
  });
}

/** The proto Group; with partition state and consumers when `detail`. */
export function groupProto(g: CoreGroup, detail: boolean): Group {
  const group = create(GroupSchema, {
    topic: g.topic.name,
    name: g.name,
    settings: settingsProto(g),
    createTime: timestampFromMs(g.meta.createdAt),
    ignoredAcks: g.ignoredAcks,
  });
  if (!detail) return group;
  const details = groupDetails(g);
  group.partitions = details.partitions.map((p) =>
    create(GroupPartitionSchema, {
      partition: p.partition,
      committedOffset: p.committed,
      endOffset: p.end,
      lag: p.lag,
      inFlight: p.inFlight,
      ackedAboveCommitted: p.ackedAbove,
      pendingRedelivery: p.pendingRedelivery,
      nextRedeliveryTime: p.nextRedeliveryAt === undefined ? undefined : timestampFromMs(p.nextRedeliveryAt),
      deadLettered: p.deadLettered,
      dropped: p.dropped,
      skipped: p.skipped,
    }),
  );
  group.blockedKeys = BigInt(details.blockedKeys);
  group.oldestBlockedKey = details.oldestBlockedKey;
  group.consumers = details.consumers.map((c) =>
    create(ConsumerSchema, {
      id: c.id,
      name: c.name,
      inFlight: c.inFlight,
      maxInFlight: c.maxInFlight,
      connectTime: timestampFromMs(c.connectedAt),
      peer: c.peer,
    }),
  );
  return group;
}
