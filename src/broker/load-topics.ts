import type { Storage, StoredState, TopicMeta } from "../storage/storage.js";
import type { GroupManager } from "./group-manager.js";
import { PartitionLog } from "./partition-log.js";
import type { RecordCodec } from "./record-codec.js";
import { Topic } from "./topic.js";

/**
 * Rebuilds the topics of a loaded `state`, in its order, each with its
 * partition logs (bounds found by seeking, never by scanning the log) and
 * its groups, made by `groups` from their stored state. Groups of a topic
 * not in `state` are left out. Rejects with the storage's error.
 */
export async function loadTopics(storage: Storage, codec: RecordCodec, state: StoredState, groups: GroupManager): Promise<Topic[]> {
  const topics: Topic[] = [];
  const byId = new Map<number, Topic>();
  for (const meta of state.topics) {
    const topic = await loadTopic(storage, codec, meta);
    topics.push(topic);
    byId.set(meta.id, topic);
  }
  for (const meta of state.groups) {
    const topic = byId.get(meta.topicId);
    if (topic === undefined) continue;
    const states = topic.partitions.map((_, p) => state.groupPartitions.get(`${meta.id}/${p}`));
    topic.groups.set(meta.name, groups.make(meta, topic, states));
  }
  return topics;
}

async function loadTopic(storage: Storage, codec: RecordCodec, meta: TopicMeta): Promise<Topic> {
  const logs: PartitionLog[] = [];
  for (let p = 0; p < meta.partitions; p++) {
    const bounds = await storage.partitionBounds(meta.id, p);
    const log = new PartitionLog(storage, meta.id, p, bounds);
    if (bounds.end > bounds.start) {
      // Publish times must not go backwards even if the clock did across the restart.
      const [last] = await storage.getRecords(meta.id, p, [bounds.end - 1n]);
      if (last !== undefined) log.lastPublishTime = codec.publishTime(last);
    }
    logs.push(log);
  }
  return new Topic(meta, logs);
}
