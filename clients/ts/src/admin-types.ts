import { durationMs, timestampDate } from "@bufbuild/protobuf/wkt";
import type { Consumer, Group, GroupPartition, PartitionInfo, Topic } from "./gen/sluice/v1/admin_pb.js";
import type { GroupSettings, RetentionPolicy } from "./gen/sluice/v1/message_pb.js";
import { Code } from "./code.js";
import { SluiceError } from "./sluice-error.js";

/** How long a topic keeps messages. */
export interface Retention {
  /** Maximum age of a message, in ms. */
  maxAgeMs: number;
  /** Maximum bytes per partition; `0n` means unlimited. */
  maxBytes: bigint;
}

/** One partition of a topic. */
export interface TopicPartitionInfo {
  /** The partition number. */
  partition: number;
  /** The offset of the oldest retained message (equal to `endOffset` when empty). */
  startOffset: bigint;
  /** The offset the next message gets: the high watermark. */
  endOffset: bigint;
}

/** A topic, as the admin calls return it. */
export interface TopicInfo {
  /** Its name. */
  name: string;
  /** How many partitions it has. */
  partitionCount: number;
  /** Its retention policy, if the broker reported one. */
  retention: Retention | undefined;
  /** When it was created. */
  createTime: Date | undefined;
  /** Its partitions in order; filled by `getTopic` only, empty otherwise. */
  partitions: TopicPartitionInfo[];
}

/** A consumer group's state in one partition. */
export interface GroupPartitionInfo {
  /** The partition number. */
  partition: number;
  /** The ack floor: every message below it is acknowledged. */
  committedOffset: bigint;
  /** The partition's end offset. */
  endOffset: bigint;
  /** Messages at or above the committed offset not yet acknowledged. */
  lag: bigint;
  /** Messages leased to consumers now. */
  inFlight: number;
  /** Messages acknowledged above the committed offset. */
  ackedAboveCommitted: bigint;
  /** Messages waiting to be redelivered (nacked or expired). */
  pendingRedelivery: number;
}

/** A connected consumer: one open subscription stream. */
export interface ConsumerInfo {
  /** The stream's id within the group. */
  id: string;
  /** The name it gave (`consumerName`), or `""`. */
  name: string;
  /** Messages leased to it now. */
  inFlight: number;
  /** Its `maxInFlight`. */
  maxInFlight: number;
  /** When it connected. */
  connectTime: Date | undefined;
  /** Its network address as the broker sees it. */
  peer: string;
}

/** A consumer group, as the admin calls return it. */
export interface GroupInfo {
  /** The topic it consumes. */
  topic: string;
  /** Its name. */
  name: string;
  /** Its ack deadline in ms, if the broker reported settings. */
  ackDeadlineMs: number | undefined;
  /** When it was created. */
  createTime: Date | undefined;
  /** Per-partition state in partition order; filled by `getGroup` only. */
  partitions: GroupPartitionInfo[];
  /** Connected consumers; filled by `getGroup` only. */
  consumers: ConsumerInfo[];
  /** Acks, nacks and extensions of positions that were not leased, ignored by the broker. */
  ignoredAcks: bigint;
}

function retention(r: RetentionPolicy | undefined): Retention | undefined {
  if (r === undefined) return undefined;
  return { maxAgeMs: r.maxAge ? durationMs(r.maxAge) : 0, maxBytes: r.maxBytes };
}

function partitionInfo(p: PartitionInfo): TopicPartitionInfo {
  return { partition: p.partition, startOffset: p.startOffset, endOffset: p.endOffset };
}

/** @internal */
export function topicInfo(t: Topic | undefined): TopicInfo {
  if (t === undefined) throw new SluiceError(Code.Internal, "the broker sent no topic");
  return {
    name: t.name,
    partitionCount: t.partitionCount,
    retention: retention(t.retention),
    createTime: t.createTime ? timestampDate(t.createTime) : undefined,
    partitions: t.partitions.map(partitionInfo),
  };
}

function groupPartition(p: GroupPartition): GroupPartitionInfo {
  return {
    partition: p.partition,
    committedOffset: p.committedOffset,
    endOffset: p.endOffset,
    lag: p.lag,
    inFlight: p.inFlight,
    ackedAboveCommitted: p.ackedAboveCommitted,
    pendingRedelivery: p.pendingRedelivery,
  };
}

function consumer(c: Consumer): ConsumerInfo {
  return {
    id: c.id,
    name: c.name,
    inFlight: c.inFlight,
    maxInFlight: c.maxInFlight,
    connectTime: c.connectTime ? timestampDate(c.connectTime) : undefined,
    peer: c.peer,
  };
}

/** The ack deadline of group settings, in ms. @internal */
export function ackDeadlineMs(s: GroupSettings | undefined): number | undefined {
  return s?.ackDeadline ? durationMs(s.ackDeadline) : undefined;
}

/** @internal */
export function groupInfo(g: Group | undefined): GroupInfo {
  if (g === undefined) throw new SluiceError(Code.Internal, "the broker sent no group");
  return {
    topic: g.topic,
    name: g.name,
    ackDeadlineMs: ackDeadlineMs(g.settings),
    createTime: g.createTime ? timestampDate(g.createTime) : undefined,
    partitions: g.partitions.map(groupPartition),
    consumers: g.consumers.map(consumer),
    ignoredAcks: g.ignoredAcks,
  };
}
