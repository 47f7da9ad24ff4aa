import type { Storage, TopicMeta } from "../storage/storage.js";
import { BrokerError } from "./broker-error.js";
import { checkNewTopic } from "./check-new-topic.js";
import type { DedupeIndex } from "./dedupe-index.js";
import type { GroupManagerDeps } from "./group-manager.js";
import { describePartitions } from "./partition-details.js";
import { PartitionLog } from "./partition-log.js";
import { fromStorageError } from "./storage-errors.js";
import { Topic } from "./topic.js";
import { addPartitions, changedTopicMeta } from "./topic-update.js";
import type { PartitionInfo, TopicChanges, TopicSettings } from "./types.js";

/** What topic administration needs from the broker: what the group manager takes too, and the parts a topic change touches. */
export interface TopicAdminDeps extends Pick<GroupManagerDeps, "clock" | "codec" | "logger" | "limits" | "ids" | "topic" | "write" | "checkOpen"> {
  /** The broker's live topics by name, which the admin adds to and removes from. */
  readonly topics: Map<string, Topic>;
  /** The same topics by id. */
  readonly byId: Map<number, Topic>;
  readonly storage: Storage;
  /** Message ids seen within each topic's dedupe window; a topic's go when its window does. */
  readonly dedupe: DedupeIndex;
  /** Starts a retention pass, so that changed limits apply at once. */
  readonly runRetention: () => Promise<void>;
}

/**
 * Creating, changing, listing and deleting topics (the broker's public
 * methods of the same names call these). Each change is durable before it
 * shows in the topic maps. Every method throws {@link BrokerError} only.
 */
export class TopicAdmin {
  /** Names being created, so concurrent creates of one name conflict. */
  readonly #creating = new Set<string>();
  /** Topic updates run one at a time, each checked against the one before. */
  #topicUpdates: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: TopicAdminDeps) {}

  /** Creates a topic; resolves once its metadata is durable. @throws unavailable, already-exists, invalid-argument, resource-exhausted (see `checkNewTopic`) */
  async create(name: string, settings: TopicSettings): Promise<Topic> {
    const { topics, ids } = this.deps;
    this.deps.checkOpen();
    const taken = topics.has(name) || this.#creating.has(name);
    checkNewTopic(name, settings, this.deps.limits, taken, topics.size, this.#creating.size);
    const { partitions } = settings;
    const meta: TopicMeta = {
      id: ids.nextTopicId++,
      name,
      partitions,
      retentionMaxAgeMs: settings.retentionMaxAgeMs,
      retentionMaxBytes: settings.retentionMaxBytes,
      dedupeWindowMs: settings.dedupeWindowMs,
      createdAt: this.deps.clock.now(),
    };
    this.#creating.add(name);
    try {
      await this.deps.write((batch) => batch.putTopic(meta).setNextIds(ids.nextTopicId, ids.nextGroupId));
    } finally {
      this.#creating.delete(name);
    }
    const logs = Array.from({ length: partitions }, (_, p) => new PartitionLog(this.deps.storage, meta.id, p, { start: 0n, end: 0n }));
    const topic = new Topic(meta, logs);
    topics.set(name, topic);
    this.deps.byId.set(meta.id, topic);
    this.deps.logger.info({ topic: name, partitions }, "topic created");
    return topic;
  }

  /** The topic's partitions with sizes and oldest publish times. @throws unavailable when storage fails */
  async describePartitions(topic: Topic): Promise<PartitionInfo[]> {
    try {
      return await describePartitions(this.deps.storage, this.deps.codec, topic);
    } catch (err) {
      throw fromStorageError(err);
    }
  }

  /** Queues a change of the topic behind the updates before it; resolves once it is durable. @throws not-found, invalid-argument */
  update(name: string, changes: TopicChanges): Promise<Topic> {
    const update = this.#topicUpdates.then(() => this.#update(name, changes));
    this.#topicUpdates = update.catch(() => undefined);
    return update;
  }

  async #update(name: string, changes: TopicChanges): Promise<Topic> {
    this.deps.checkOpen();
    const topic = this.deps.topic(name);
    const before = topic.meta;
    const meta = changedTopicMeta(before, changes, this.deps.limits.maxPartitions);
    await this.deps.write((batch) => {
      if (topic.deleted) throw new BrokerError("not-found", `topic ${name} does not exist`);
      batch.putTopic(meta);
    });
    topic.meta = meta;
    // Only now, with the count durable, may publishes reach the new partitions.
    addPartitions(topic, meta.partitions, this.deps.storage);
    if (meta.dedupeWindowMs === 0) this.deps.dedupe.clear(meta.id);
    if (
      meta.retentionMaxAgeMs !== before.retentionMaxAgeMs ||
      meta.retentionMaxBytes !== before.retentionMaxBytes ||
      meta.dedupeWindowMs !== before.dedupeWindowMs
    ) {
      void this.deps.runRetention();
    }
    this.deps.logger.info({ topic: name, partitions: meta.partitions }, "topic updated");
    return topic;
  }

  /** Topics in name order after `after`, at most `limit`; empty past the last. */
  list(after: string, limit: number): Topic[] {
    const { topics } = this.deps;
    const names = [...topics.keys()].filter((n) => n > after).sort();
    return names.slice(0, limit).map((n) => topics.get(n)!);
  }

  /** Deletes a topic with its groups, whose streams end with `aborted`; its records are purged in the background. @throws unavailable, not-found */
  async delete(name: string): Promise<void> {
    this.deps.checkOpen();
    const topic = this.deps.topic(name);
    topic.deleted = true;
    this.deps.topics.delete(name);
    const groups = [...topic.groups.values()];
    for (const g of groups) g.close(new BrokerError("aborted", `topic ${name} was deleted`));
    await this.deps.write((batch) => {
      for (const g of groups) batch.deleteGroup(g.meta.id, topic.partitions.length);
      batch.deleteTopic(topic.meta.id);
    });
    this.deps.byId.delete(topic.meta.id);
    this.deps.dedupe.clear(topic.meta.id);
    this.deps.logger.info({ topic: name }, "topic deleted");
    this.purgeInBackground();
  }

  /** Removes the records of deleted topics, including those a crash left; a failure is logged, never thrown. */
  purgeInBackground(): void {
    this.deps.storage.purgeDeleted().catch((err: unknown) => this.deps.logger.warn({ err }, "purging deleted topics failed"));
  }
}
