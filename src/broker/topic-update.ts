import type { Storage, TopicMeta } from "../storage/storage.js";
import { BrokerError } from "./broker-error.js";
import { GroupPartition } from "./group-partition.js";
import { PartitionLog } from "./partition-log.js";
import type { Topic } from "./topic.js";
import { DEFAULT_RETENTION_MS, MAX_DEDUPE_WINDOW_MS, type TopicChanges } from "./types.js";

/** Checks a dedupe window. @throws invalid-argument beyond 1 day */
export function checkDedupeWindow(ms: number): void {
  if (!Number.isSafeInteger(ms) || ms < 0 || ms > MAX_DEDUPE_WINDOW_MS) {
    throw new BrokerError("invalid-argument", `dedupe_window must be between 0 (off) and 1 day; got ${ms / 1000}s`);
  }
}

/**
 * The metadata of `meta`'s topic after `changes`; fields not given keep
 * their values. @throws invalid-argument for fewer partitions than now, more
 * than `maxPartitions`, or a dedupe window over 1 day
 */
export function changedTopicMeta(meta: TopicMeta, changes: TopicChanges, maxPartitions: number): TopicMeta {
  const partitions = changes.partitions ?? meta.partitions;
  if (!Number.isInteger(partitions) || partitions < meta.partitions) {
    throw new BrokerError(
      "invalid-argument",
      `partitions can only grow: topic ${meta.name} has ${meta.partitions}, the request asks for ${partitions}`,
    );
  }
  if (partitions > maxPartitions) {
    throw new BrokerError(
      "invalid-argument",
      `partitions must be between 1 and ${maxPartitions} (--max-partitions); got ${partitions}`,
    );
  }
  const dedupeWindowMs = changes.dedupeWindowMs ?? meta.dedupeWindowMs;
  checkDedupeWindow(dedupeWindowMs);
  const maxAge = changes.retentionMaxAgeMs;
  return {
    ...meta,
    partitions,
    retentionMaxAgeMs: maxAge === undefined ? meta.retentionMaxAgeMs : maxAge || DEFAULT_RETENTION_MS,
    retentionMaxBytes: changes.retentionMaxBytes ?? meta.retentionMaxBytes,
    dedupeWindowMs,
  };
}

/**
 * Gives `topic` partitions up to `count`: empty logs, and in every group a
 * position at their start. Call only once the new count is durable.
 */
export function addPartitions(topic: Topic, count: number, storage: Storage): void {
  for (let p = topic.partitions.length; p < count; p++) {
    const log = new PartitionLog(storage, topic.meta.id, p, { start: 0n, end: 0n });
    topic.partitions.push(log);
    for (const g of topic.groups.values()) g.addPartitions([new GroupPartition(log, { committed: 0n, acked: [] })]);
  }
}
