import { setMaxListeners } from "node:events";
import type { Storage } from "../storage/storage.js";
import { AckPersister } from "./ack-persister.js";
import { BrokerError } from "./broker-error.js";
import { type Clock, systemClock } from "./clock.js";
import { DedupeIndex } from "./dedupe-index.js";
import { restoreDedupe } from "./dedupe-restore.js";
import { coveredEnds, encodeDedupeSnapshot } from "./dedupe-snapshot.js";
import { GroupManager, type GroupManagerDeps, type IdCounters } from "./group-manager.js";
import { loadTopics } from "./load-topics.js";
import { type Logger, silentLogger } from "./logger.js";
import { checkName } from "./names.js";
import type { RecordCodec } from "./record-codec.js";
import { PublishBudget } from "./publish-budget.js";
import { PublishPipeline } from "./publish-pipeline.js";
import { Retention } from "./retention.js";
import type { Topic } from "./topic.js";
import { TopicAdmin } from "./topic-admin.js";
import {
  type BrokerLimits,
  DEFAULT_LIMITS,
  DEFAULT_RETENTION_INTERVAL_MS,
  type PartitionInfo,
  type PublishInput,
  type PublishResult,
  type TopicChanges,
  type TopicSettings,
} from "./types.js";
import { WriteQueue } from "./write-queue.js";

/** What a broker is built from. */
export interface BrokerOptions {
  readonly storage: Storage;
  readonly codec: RecordCodec;
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** Flush every commit to stable storage before answering (power-loss safe). */
  readonly fsync?: boolean;
  readonly limits?: Partial<BrokerLimits>;
  /** Time between retention passes (default 30 s); one also runs at start. */
  readonly retentionIntervalMs?: number;
}

/**
 * The transport-free broker: topics of partitioned logs, publishing with
 * group commit, and consumer groups that lease messages to subscriptions.
 * Every method throws {@link BrokerError} only.
 */
export class Broker {
  readonly topics = new Map<string, Topic>();
  /** The same topics by id. */
  readonly #byId = new Map<number, Topic>();
  readonly limits: BrokerLimits;
  readonly #storage: Storage;
  readonly #codec: RecordCodec;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #writes: WriteQueue;
  readonly #acks: AckPersister;
  readonly #ids: IdCounters = { nextTopicId: 1, nextGroupId: 1 };
  #closing = false;
  readonly #closingController = new AbortController();
  /** Message ids seen within each topic's dedupe window. */
  readonly #dedupe: DedupeIndex;
  readonly #retention: Retention;
  readonly #publisher: PublishPipeline;
  /** Creating, changing and deleting topics. */
  readonly #admin: TopicAdmin;
  /** Consumer groups and the ways to consume them. */
  readonly groups: GroupManager;
  /** Bytes of publishes accepted and not yet durable; edges that can stop reading wait on it. */
  readonly publishBudget: PublishBudget;

  private constructor(options: BrokerOptions) {
    // One listener per open PublishStream; many are normal, not a leak.
    setMaxListeners(0, this.#closingController.signal);
    this.#storage = options.storage;
    this.#codec = options.codec;
    this.#clock = options.clock ?? systemClock;
    this.#logger = options.logger ?? silentLogger;
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.#writes = new WriteQueue(this.#storage, options.fsync ?? false);
    this.#acks = new AckPersister(this.#writes, this.#clock, this.#logger);
    const maxEntries = this.limits.dedupeMaxEntries;
    const windowOf = (topicId: number): number => this.#byId.get(topicId)?.meta.dedupeWindowMs ?? 0;
    this.#dedupe = new DedupeIndex(maxEntries, windowOf, () =>
      this.#logger.warn(
        { maxEntries },
        "the dedupe index is full (--dedupe-max-entries): the oldest message ids are forgotten before their window ends",
      ),
    );
    this.publishBudget = new PublishBudget(this.limits.maxPendingPublishBytes);
    this.#publisher = new PublishPipeline({
      writes: this.#writes,
      codec: this.#codec,
      clock: this.#clock,
      logger: this.#logger,
      dedupe: this.#dedupe,
      maxMessageBytes: this.limits.maxMessageBytes,
      budget: this.publishBudget,
    });
    this.#retention = new Retention({
      storage: this.#storage,
      clock: this.#clock,
      logger: this.#logger,
      publishTime: (v) => this.#codec.publishTime(v),
      topics: () => this.topics.values(),
      dedupe: this.#dedupe,
      intervalMs: options.retentionIntervalMs ?? DEFAULT_RETENTION_INTERVAL_MS,
    });
    // What topic administration and the group manager both take from the broker.
    const shared: Omit<GroupManagerDeps, "acks" | "publish"> = {
      clock: this.#clock,
      codec: this.#codec,
      logger: this.#logger,
      limits: this.limits,
      ids: this.#ids,
      topic: (name) => this.topic(name),
      write: (build) => this.#writes.write(build),
      checkOpen: () => this.#checkOpen(),
    };
    this.#admin = new TopicAdmin({
      ...shared,
      topics: this.topics,
      byId: this.#byId,
      storage: this.#storage,
      dedupe: this.#dedupe,
      runRetention: () => this.#retention.runNow(),
    });
    this.groups = new GroupManager({
      ...shared,
      acks: this.#acks,
      publish: (topic, messages) => this.publish(topic, messages),
    });
  }

  /**
   * Loads a broker from opened storage: metadata, group state, and each
   * partition's bounds (found by seeking, never by scanning the log).
   */
  static async open(options: BrokerOptions): Promise<Broker> {
    const b = new Broker(options);
    const state = await b.#storage.load();
    b.#ids.nextTopicId = state.nextTopicId;
    b.#ids.nextGroupId = state.nextGroupId;
    for (const topic of await loadTopics(b.#storage, b.#codec, state, b.groups)) {
      b.topics.set(topic.name, topic);
      b.#byId.set(topic.meta.id, topic);
    }
    const restored = await restoreDedupe({
      index: b.#dedupe,
      storage: b.#storage,
      codec: b.#codec,
      logger: b.#logger,
      topics: b.#byId.values(),
      now: b.#clock.now(),
    });
    if (restored.scanned > 0) b.#logger.info(restored, "dedupe index rebuilt from the newest records");
    // Finish purges a crash interrupted.
    b.#admin.purgeInBackground();
    b.#retention.start();
    return b;
  }

  // ---- topics ----

  /** Creates a topic. */
  createTopic(name: string, settings: TopicSettings): Promise<Topic> {
    return this.#admin.create(name, settings);
  }

  /** The topic named `name`. @throws not-found */
  topic(name: string): Topic {
    checkName("topic", name);
    const t = this.topics.get(name);
    if (t === undefined) throw new BrokerError("not-found", `topic ${name} does not exist`);
    return t;
  }

  /** Each partition's bounds (as `partitionInfo` gives them) with sizes and oldest publish times (GetTopic). @throws unavailable */
  describePartitions(topic: Topic): Promise<PartitionInfo[]> {
    return this.#admin.describePartitions(topic);
  }

  /**
   * Changes a topic's retention and dedupe window and may add partitions;
   * only the fields given change. Resolves once the change is durable. New
   * partitions start empty and every group reads them from their start; a
   * retention pass starts at once so that new limits apply.
   * @throws not-found; invalid-argument for fewer partitions or bad values
   */
  updateTopic(name: string, changes: TopicChanges): Promise<Topic> {
    return this.#admin.update(name, changes);
  }

  /** Runs a retention pass now; resolves when it ends (for tests and tools). */
  runRetention(): Promise<void> {
    return this.#retention.runNow();
  }

  /** Topics in name order after `after`, at most `limit`. */
  listTopics(after: string, limit: number): Topic[] {
    return this.#admin.list(after, limit);
  }

  /** Deletes a topic with its groups; their streams end with `aborted`. */
  deleteTopic(name: string): Promise<void> {
    return this.#admin.delete(name);
  }

  // ---- publishing ----

  /**
   * Appends messages to a topic. Resolves once they are durable in storage,
   * with one result per message, in order. Concurrent calls share one write.
   */
  publish(topicName: string, messages: readonly PublishInput[]): Promise<PublishResult[]> {
    try {
      this.#checkOpen();
      return this.#publisher.publish(this.topic(topicName), messages);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  // ---- lifecycle ----

  /**
   * Aborted when {@link close} starts. Streams the broker does not own (the
   * edge's PublishStream) listen to it: they answer what they accepted, then
   * end with `unavailable`, instead of holding the shutdown open until the
   * client ends them.
   */
  get closing(): AbortSignal {
    return this.#closingController.signal;
  }

  /**
   * Stops: ends every subscription (their leases are released), waits for
   * queued publishes and acks to be written, then saves the dedupe index so
   * that the next start need not re-read records. Storage is left open for
   * the caller to close.
   */
  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    this.#closingController.abort();
    await this.#retention.stop();
    for (const topic of this.topics.values()) {
      for (const g of topic.groups.values()) {
        for (const sub of [...g.consumers.values()]) {
          sub.close(new BrokerError("unavailable", "the broker is shutting down; reconnect"));
        }
      }
    }
    await this.#acks.flush();
    await this.#writes.drain();
    await this.#saveDedupe();
  }

  /**
   * Writes the dedupe index with the ends it covers, in a batch of its own
   * after every publish. A failure only costs the next start a re-read.
   */
  async #saveDedupe(): Promise<void> {
    try {
      await this.#writes.write((batch) => {
        batch.putDedupeSnapshot(encodeDedupeSnapshot(this.#dedupe, coveredEnds(this.#byId.values())));
      });
    } catch (err) {
      this.#logger.warn({ err }, "saving the dedupe index failed; the next start re-reads the newest records");
    }
  }

  #checkOpen(): void {
    if (this.#closing) throw new BrokerError("unavailable", "the broker is shutting down");
  }
}
