import { durationMs, timestampDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import type { Consumer, Group, GroupPartition, PartitionInfo, Topic } from "./gen/sluice/v1/admin_pb.js";
import type { RetentionPolicy } from "./gen/sluice/v1/message_pb.js";
import { Code } from "./code.js";
import { groupSettingsInfo, type GroupSettingsInfo } from "./group-settings.js";
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
  /** Approximate bytes on disk (`0n` when the broker does not report it). */
  bytes: bigint;
  /** Publish time of the oldest retained message; `undefined` when empty (or not reported). */
  oldestPublishTime: Date | undefined;
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
  /** Publishes whose `messageId` was seen within this window, in ms, are not stored again; 0: no dedupe (or not reported). */
  dedupeWindowMs: number;
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
  /** When the earliest waiting message is due; `undefined` when none waits. */
  nextRedeliveryTime: Date | undefined;
  /** Messages published to the dead-letter topic after `maxDeliveries`. */
  deadLettered: bigint;
  /** Messages dropped after `maxDeliveries` (no dead-letter topic set). */
  dropped: bigint;
  /** Messages the group never received because retention removed them first. */
  skipped: bigint;
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

/** A consumer group, as the admin calls return it, with its settings in force. */
export interface GroupInfo extends GroupSettingsInfo {
  /** The topic it consumes. */
  topic: string;
  /** Its name. */
  name: string;
  /** When it was created. */
  createTime: Date | undefined;
  /** Per-partition state in partition order; filled by `getGroup` only. */
  partitions: GroupPartitionInfo[];
  /** Connected consumers; filled by `getGroup` only. */
  consumers: ConsumerInfo[];
  /** Acks, nacks and extensions of positions that were not leased, ignored by the broker. */
  ignoredAcks: bigint;
  /** For an `ordered` group: keys whose next message waits for an earlier one to be acked. */
  blockedKeys: bigint;
  /** For an `ordered` group: the blocked key whose waiting message is oldest; `""` when none. */
  oldestBlockedKey: string;
}

function date(t: Timestamp | undefined): Date | undefined {
  return t ? timestampDate(t) : undefined;
}

function retention(r: RetentionPolicy | undefined): Retention | undefined {
  if (r === undefined) return undefined;
  return { maxAgeMs: r.maxAge ? durationMs(r.maxAge) : 0, maxBytes: r.maxBytes };
}

function partitionInfo(p: PartitionInfo): TopicPartitionInfo {
  return {
    partition: p.partition,
    startOffset: p.startOffset,
    endOffset: p.endOffset,
    bytes: p.bytes,
    oldestPublishTime: date(p.oldestPublishTime),
  };
}

/** @internal */
export function topicInfo(t: Topic | undefined): TopicInfo {
  if (t === undefined) throw new SluiceError(Code.Internal, "the broker sent no topic");
  return {
    name: t.name,
    partitionCount: t.partitionCount,
    retention: retention(t.retention),
    createTime: date(t.createTime),
    dedupeWindowMs: t.dedupeWindow ? durationMs(t.dedupeWindow) : 0,
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
    nextRedeliveryTime: date(p.nextRedeliveryTime),
    deadLettered: p.deadLettered,
    dropped: p.dropped,
    skipped: p.skipped,
  };
}

function consumer(c: Consumer): ConsumerInfo {
  return {
    id: c.id,
    name: c.name,
    inFlight: c.inFlight,
    maxInFlight: c.maxInFlight,
    connectTime: date(c.connectTime),
    peer: c.peer,
  };
}

/** @internal */
export function groupInfo(g: Group | undefined): GroupInfo {
  if (g === undefined) throw new SluiceError(Code.Internal, "the broker sent no group");
  return {
    topic: g.topic,
    name: g.name,
    ...groupSettingsInfo(g.settings),
    createTime: date(g.createTime),
    partitions: g.partitions.map(groupPartition),
    consumers: g.consumers.map(consumer),
    ignoredAcks: g.ignoredAcks,
    blockedKeys: g.blockedKeys,
    oldestBlockedKey: g.oldestBlockedKey,
  };
}
