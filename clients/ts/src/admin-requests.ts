import { create } from "@bufbuild/protobuf";
import { Code } from "./code.js";
import {
  CreateGroupRequestSchema,
  CreateTopicRequestSchema,
  SeekGroupRequestSchema,
  UpdateGroupRequestSchema,
  UpdateTopicRequestSchema,
  type CreateGroupRequest,
  type CreateTopicRequest,
  type SeekGroupRequest,
  type UpdateGroupRequest,
  type UpdateTopicRequest,
} from "./gen/sluice/v1/admin_pb.js";
import { RetentionPolicySchema, type RetentionPolicy } from "./gen/sluice/v1/message_pb.js";
import { durationField, groupSettingsMessage, type GroupSettings } from "./group-settings.js";
import { seekFields, type SeekTarget } from "./seek-target.js";
import { SluiceError } from "./sluice-error.js";
import { startPositionMessage, type StartPosition } from "./start-position.js";

/** Options of {@link SluiceClient.createTopic}. */
export interface CreateTopicOptions {
  /** The partition count. Default 1. */
  partitions?: number;
  /** Maximum message age in ms. Default: the broker's (7 days). */
  retentionMaxAgeMs?: number;
  /** Maximum bytes per partition; `0n` is unlimited. Default unlimited. */
  retentionMaxBytes?: bigint;
  /** Publishes whose `messageId` was seen within this window (ms) are not stored again; 0 turns dedupe off. Default: the broker's (2 minutes). */
  dedupeWindowMs?: number;
}

/** Changes of {@link SluiceClient.updateTopic}; only what is given changes. */
export interface UpdateTopicOptions {
  /**
   * A new retention policy, replacing the old one as a whole: an omitted
   * field takes its default (`maxAgeMs`: 7 days, `maxBytes`: unlimited).
   */
  retention?: { maxAgeMs?: number; maxBytes?: bigint };
  /** A new dedupe window in ms; 0 turns dedupe off. */
  dedupeWindowMs?: number;
  /** A new partition count, at least the current one. Keys may map to other partitions afterwards. */
  partitions?: number;
}

/** Options of {@link SluiceClient.createGroup}: where it starts and its {@link GroupSettings}. */
export interface CreateGroupOptions extends GroupSettings {
  /** Where the group starts. Default `"earliest"`. */
  start?: StartPosition;
}

function retentionPolicy(maxAgeMs: number | undefined, maxBytes: bigint | undefined): RetentionPolicy {
  return create(RetentionPolicySchema, {
    maxAge: maxAgeMs !== undefined ? durationField("retention maxAgeMs", maxAgeMs) : undefined,
    maxBytes: maxBytes ?? 0n,
  });
}

function partitionCount(n: number | undefined): number | undefined {
  if (n === undefined) return undefined;
  if (!Number.isInteger(n) || n < 0 || n > 0xffff_ffff) {
    throw new SluiceError(Code.InvalidArgument, `partitions must be a whole number, got ${n}`);
  }
  return n;
}

/** @internal */
export function createTopicRequest(name: string, o: CreateTopicOptions): CreateTopicRequest {
  const withRetention = o.retentionMaxAgeMs !== undefined || o.retentionMaxBytes !== undefined;
  return create(CreateTopicRequestSchema, {
    name,
    partitions: partitionCount(o.partitions) ?? 0,
    retention: withRetention ? retentionPolicy(o.retentionMaxAgeMs, o.retentionMaxBytes) : undefined,
    dedupeWindow: o.dedupeWindowMs !== undefined ? durationField("dedupeWindowMs", o.dedupeWindowMs) : undefined,
  });
}

/** @internal */
export function updateTopicRequest(name: string, o: UpdateTopicOptions): UpdateTopicRequest {
  return create(UpdateTopicRequestSchema, {
    name,
    retention: o.retention ? retentionPolicy(o.retention.maxAgeMs, o.retention.maxBytes) : undefined,
    dedupeWindow: o.dedupeWindowMs !== undefined ? durationField("dedupeWindowMs", o.dedupeWindowMs) : undefined,
    partitions: partitionCount(o.partitions),
  });
}

/** @internal */
export function createGroupRequest(topic: string, group: string, o: CreateGroupOptions): CreateGroupRequest {
  return create(CreateGroupRequestSchema, {
    topic,
    group,
    start: startPositionMessage(o.start),
    settings: groupSettingsMessage(o),
  });
}

/** @internal */
export function updateGroupRequest(topic: string, group: string, settings: GroupSettings): UpdateGroupRequest {
  return create(UpdateGroupRequestSchema, { topic, group, settings: groupSettingsMessage(settings) });
}

/** @internal */
export function seekGroupRequest(topic: string, group: string, target: SeekTarget): SeekGroupRequest {
  return create(SeekGroupRequestSchema, { topic, group, ...seekFields(target) });
}
