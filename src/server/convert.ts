import { create } from "@bufbuild/protobuf";
import { type Duration, type Timestamp, timestampFromMs } from "@bufbuild/protobuf/wkt";
import { BrokerError } from "../broker/broker-error.js";
import type { Group as CoreGroup } from "../broker/group.js";
import type { Topic as CoreTopic } from "../broker/topic.js";
import type { PartitionInfo, StartPosition as CoreStart } from "../broker/types.js";
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

/** Milliseconds of a Duration; undefined when absent. @throws invalid-argument when negative. */
export function durationMs(d: Duration | undefined, field: string): number | undefined {
  if (d === undefined) return undefined;
  const ms = Number(d.seconds) * 1000 + Math.floor(d.nanos / 1_000_000);
  if (ms < 0 || !Number.isFinite(ms)) throw new BrokerError("invalid-argument", `${field} must not be negative`);
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

/** Core group settings from proto ones (absent fields: defaults). */
export function groupSettings(s: GroupSettings | undefined): { ackDeadlineMs?: number } {
  const ackDeadlineMs = durationMs(s?.ackDeadline, "ack_deadline");
  return ackDeadlineMs === undefined ? {} : { ackDeadlineMs };
}

function settingsProto(g: CoreGroup): GroupSettings {
  return create(GroupSettingsSchema, {
    ackDeadline: { seconds: BigInt(Math.floor(g.meta.ackDeadlineMs / 1000)), nanos: (g.meta.ackDeadlineMs % 1000) * 1e6 },
  });
}

/** The proto Topic; with `partitions` when given. */
export function topicProto(t: CoreTopic, partitions?: PartitionInfo[]): Topic {
  return create(TopicSchema, {
    name: t.name,
    partitionCount: t.partitions.length,
    retention: create(RetentionPolicySchema, {
      maxAge: { seconds: BigInt(Math.floor(t.meta.retentionMaxAgeMs / 1000)), nanos: 0 },
      maxBytes: t.meta.retentionMaxBytes,
    }),
    createTime: timestampFromMs(t.meta.createdAt),
    partitions: (partitions ?? []).map((p) =>
      create(PartitionInfoSchema, { partition: p.partition, startOffset: p.start, endOffset: p.end }),
    ),
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
  group.partitions = g.partitions.map((gp) =>
    create(GroupPartitionSchema, {
      partition: gp.partition,
      committedOffset: gp.acks.floor,
      endOffset: gp.log.end,
      lag: gp.lag,
      inFlight: gp.inFlight.size,
      ackedAboveCommitted: gp.acks.ackedAbove,
      pendingRedelivery: gp.waiting.size,
    }),
  );
  group.consumers = [...g.consumers.values()].map((c) =>
    create(ConsumerSchema, {
      id: c.id,
      name: c.options.name,
      inFlight: c.leases.size,
      maxInFlight: c.options.maxInFlight,
      connectTime: timestampFromMs(c.options.connectedAt),
      peer: c.options.peer,
    }),
  );
  return group;
}

export { settingsProto };
