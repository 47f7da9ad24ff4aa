import type { Storage } from "../storage/storage.js";
import type { PartitionLog } from "./partition-log.js";
import type { RecordCodec } from "./record-codec.js";
import type { Topic } from "./topic.js";
import type { PartitionInfo } from "./types.js";

/** Bounds of each partition of a topic, in partition order (CreateTopic). */
export function partitionInfo(topic: Topic): PartitionInfo[] {
  return topic.partitions.map((l) => ({ partition: l.partition, start: l.start, end: l.end }));
}

/**
 * Each partition's bounds, approximate bytes (measured from its start, see
 * `Storage.partitionBytes`) and the publish time of its oldest retained
 * record: undefined when the partition is empty, or when retention removed
 * that record while this ran. Rejects with the storage's error.
 */
export function describePartitions(storage: Storage, codec: RecordCodec, topic: Topic): Promise<PartitionInfo[]> {
  const describe = async (log: PartitionLog): Promise<PartitionInfo> => {
    const { partition, start, end } = log;
    if (end <= start) return { partition, start, end, bytes: 0n, oldestPublishTimeMs: undefined };
    const [bytes, [first]] = await Promise.all([storage.partitionBytes(topic.meta.id, partition, start), log.get([start])]);
    const oldestPublishTimeMs = first === undefined ? undefined : codec.publishTime(first);
    return { partition, start, end, bytes: BigInt(Math.round(bytes)), oldestPublishTimeMs };
  };
  return Promise.all(topic.partitions.map(describe));
}
