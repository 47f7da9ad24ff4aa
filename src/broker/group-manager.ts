import { randomUUID } from "node:crypto";
import type { GroupMeta, GroupPartitionState, WriteBatch } from "../storage/storage.js";
import type { AckPersister } from "./ack-persister.js";
import { BrokerError } from "./broker-error.js";
import type { Clock } from "./clock.js";
import { checkDeadline, checkGroupSettings } from "./check-group-settings.js";
import { publishDeadLetter } from "./dead-letter.js";
import { type AckOutcome, Group, type Position } from "./group.js";
import { GroupPartition } from "./group-partition.js";
import type { Logger } from "./logger.js";
import { checkName } from "./names.js";
import type { RecordCodec } from "./record-codec.js";
import { startOffset } from "./seek.js";
import { fromStorageError } from "./storage-errors.js";
import { type DeliveryBatch, Subscription } from "./subscription.js";
import type { Topic } from "./topic.js";
import {
  type BrokerLimits,
  DEFAULT_GROUP_SETTINGS,
  DEFAULT_MAX_IN_FLIGHT,
  type GroupSettings,
  type PublishInput,
  type PublishResult,
  type StartPosition,
} from "./types.js";

/** The id counters shared by topics and groups (persisted together). */
export interface IdCounters {
  nextTopicId: number;
  nextGroupId: number;
}

/** What the group manager needs from the broker. */
export interface GroupManagerDeps {
  readonly clock: Clock;
  readonly codec: RecordCodec;
  readonly logger: Logger;
  readonly limits: BrokerLimits;
  readonly ids: IdCounters;
  readonly acks: AckPersister;
  readonly topic: (name: string) => Topic;
  readonly write: (build: (batch: WriteBatch) => void) => Promise<void>;
  readonly publish: (topic: string, messages: readonly PublishInput[]) => Promise<PublishResult[]>;
  readonly checkOpen: () => void;
}

/** What a subscriber asks for when it opens a stream. */
export interface SubscribeOptions {
  readonly topic: string;
  readonly group: string;
  /** 0 means the default ({@link DEFAULT_MAX_IN_FLIGHT}). */
  readonly maxInFlight: number;
  /** Used only when the group is created by this call. */
  readonly start?: StartPosition | undefined;
  /** Used only when the group is created by this call. */
  readonly settings?: Partial<GroupSettings> | undefined;
  readonly consumerName?: string;
  readonly peer?: string;
}

const MAX_FETCH_MESSAGES = 10_000;
const MAX_FETCH_WAIT_MS = 30_000;

/**
 * Consumer groups: creating, changing, seeking and deleting them, and the
 * ways to consume (streams and unary fetch/ack). Every method throws
 * {@link BrokerError} only.
 */
export class GroupManager {
  /** Groups being created, so concurrent subscribers can wait for them. */
  readonly #creations = new Map<string, Promise<Group>>();

  /** Reads a record's publish time, for start positions by timestamp. */
  readonly #publishTime = (v: Uint8Array): number => this.deps.codec.publishTime(v);

  constructor(private readonly deps: GroupManagerDeps) {}

  /** Builds a group from loaded or new metadata and state. */
  make(meta: GroupMeta, topic: Topic, states: Array<GroupPartitionState | undefined>): Group {
    const gps = topic.partitions.map(
      (log, p) => new GroupPartition(log, states[p] ?? { committed: log.start, acked: [] }),
    );
    const { clock, codec, acks, logger } = this.deps;
    return new Group({ ...DEFAULT_GROUP_SETTINGS, ...meta }, topic, gps, {
      clock,
      // Acks wait through failed writes: a full disk delays confirmations, never fails them.
      persist: (group, wait) => acks.mark(group, wait && "durable"),
      deadLetter: (d) => publishDeadLetter(d, codec, this.deps.publish),
      keyOf: (v) => codec.key(v),
      onError: (err, what) => logger.warn({ err, topic: topic.name, group: meta.name }, `${what} failed`),
      maxInFlight: this.deps.limits.maxGroupInFlight,
    });
  }

  /** The group `name` of `topic`. @throws not-found */
  get(topicName: string, name: string): Group {
    const topic = this.deps.topic(topicName);
    checkName("group", name);
    const g = topic.groups.get(name);
    if (g === undefined) throw new BrokerError("not-found", `group ${name} does not exist on topic ${topicName}`);
    return g;
  }

  /** Creates a consumer group, positioned at `start` in every partition. */
  async create(
    topicName: string,
    name: string,
    start: StartPosition = { kind: "earliest" },
    settings: Partial<GroupSettings> = {},
  ): Promise<Group> {
    this.deps.checkOpen();
    const topic = this.deps.topic(topicName);
    checkName("group", name);
    const key = `${topicName}\u0000${name}`;
    if (topic.groups.has(name) || this.#creations.has(key)) {
      throw new BrokerError("already-exists", `group ${name} already exists on topic ${topicName}`);
    }
    const full = checkGroupSettings({ ...DEFAULT_GROUP_SETTINGS, ...settings }, topic.name, this.deps.topic);
    const creation = this.#create(topic, name, start, full);
    this.#creations.set(key, creation);
    try {
      return await creation;
    } finally {
      this.#creations.delete(key);
    }
  }

  async #create(topic: Topic, name: string, start: StartPosition, settings: GroupSettings): Promise<Group> {
    const starts = await Promise.all(topic.partitions.map((log) => startOffset(log, start, this.#publishTime)));
    const ids = this.deps.ids;
    const meta: GroupMeta & GroupSettings = {
      ...settings,
      id: ids.nextGroupId++,
      topicId: topic.meta.id,
      name,
      createdAt: this.deps.clock.now(),
    };
    const states = starts.map((committed) => ({ committed, acked: [] }));
    await this.deps.write((batch) => {
      if (topic.deleted) throw new BrokerError("not-found", `topic ${topic.name} does not exist`);
      batch.putGroup(meta).setNextIds(ids.nextTopicId, ids.nextGroupId);
      states.forEach((s, p) => batch.putGroupPartition(meta.id, p, s));
    });
    const group = this.make(meta, topic, states);
    topic.groups.set(name, group);
    this.deps.logger.info({ topic: topic.name, group: name, start: start.kind }, "group created");
    return group;
  }

  /** Changes a live group's settings: only those given. */
  async update(topicName: string, name: string, settings: Partial<GroupSettings>): Promise<Group> {
    this.deps.checkOpen();
    const group = this.get(topicName, name);
    const full = checkGroupSettings({ ...group.meta, ...settings }, group.topic.name, this.deps.topic);
    const meta = { ...group.meta, ...full };
    await this.deps.write((batch) => batch.putGroup(meta));
    group.updateSettings(meta);
    this.deps.logger.info({ topic: topicName, group: name }, "group updated");
    return group;
  }

  /**
   * Moves a group: to `target` in every partition, or to the given offsets
   * (clamped to each partition's retained range). Resolves once durable.
   */
  async seek(topicName: string, name: string, target: StartPosition | readonly Position[]): Promise<Group> {
    this.deps.checkOpen();
    const group = this.get(topicName, name);
    const offsets = new Map<number, bigint>();
    const logs = group.topic.partitions;
    if (Array.isArray(target)) {
      for (const pos of target as readonly Position[]) {
        const log = logs[pos.partition];
        if (log === undefined) {
          throw new BrokerError("invalid-argument", `partition ${pos.partition} does not exist; topic ${topicName} has ${logs.length}`);
        }
        offsets.set(pos.partition, await startOffset(log, { kind: "offset", offset: pos.offset }, this.#publishTime));
      }
    } else {
      const start = target as StartPosition;
      for (const log of logs) offsets.set(log.partition, await startOffset(log, start, this.#publishTime));
    }
    group.seek(offsets);
    await this.deps.acks.flush();
    this.deps.logger.info({ topic: topicName, group: name }, "group moved");
    return group;
  }

  /** Deletes a group. With consumers connected it needs `force`. */
  async delete(topicName: string, name: string, force: boolean): Promise<void> {
    this.deps.checkOpen();
    const group = this.get(topicName, name);
    if (group.consumers.size > 0 && !force) {
      throw new BrokerError(
        "failed-precondition",
        `group ${name} has ${group.consumers.size} connected consumers; disconnect them or set force`,
      );
    }
    group.topic.groups.delete(name);
    group.close(new BrokerError("aborted", `group ${name} was deleted`));
    await this.deps.write((batch) => batch.deleteGroup(group.meta.id, group.partitions.length));
    this.deps.logger.info({ topic: topicName, group: name }, "group deleted");
  }

  /** Opens a subscription, creating the group on first use. */
  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    this.deps.checkOpen();
    const limit = this.deps.limits.maxInFlight;
    const maxInFlight = options.maxInFlight === 0 ? DEFAULT_MAX_IN_FLIGHT : options.maxInFlight;
    if (!Number.isInteger(maxInFlight) || maxInFlight < 1 || maxInFlight > limit) {
      throw new BrokerError("invalid-argument", `max_in_flight must be between 1 and ${limit} (--max-in-flight); got ${maxInFlight}`);
    }
    const topic = this.deps.topic(options.topic);
    checkName("group", options.group);
    const group =
      topic.groups.get(options.group) ??
      (await (this.#creations.get(`${options.topic}\u0000${options.group}`) ??
        this.create(options.topic, options.group, options.start, options.settings)));
    this.deps.checkOpen();
    if (group.deleted) throw new BrokerError("aborted", `group ${options.group} was deleted`);
    const sub = new Subscription(group, {
      id: randomUUID(),
      name: options.consumerName ?? "",
      peer: options.peer ?? "",
      maxInFlight,
      maxBatchBytes: Math.max(1 << 20, this.deps.limits.maxMessageBytes),
      connectedAt: this.deps.clock.now(),
    });
    group.attach(sub);
    return sub;
  }

  /**
   * Leases up to `max` messages to the caller, waiting up to `waitMs` for
   * the first. Resolves to null when none arrived in time.
   */
  async fetch(topicName: string, name: string, max: number, waitMs: number): Promise<DeliveryBatch | null> {
    this.deps.checkOpen();
    const group = this.get(topicName, name);
    const n = max === 0 ? 1 : max;
    if (n > MAX_FETCH_MESSAGES) throw new BrokerError("invalid-argument", `max_messages must be at most ${MAX_FETCH_MESSAGES}; got ${n}`);
    if (waitMs > MAX_FETCH_WAIT_MS) throw new BrokerError("invalid-argument", `max_wait must be at most 30s; got ${waitMs / 1000}s`);
    const limit = this.deps.limits.maxGroupInFlight;
    if (group.inFlight >= limit) {
      // A pull client at the limit must ack before it gets more; waiting would only time out.
      throw new BrokerError(
        "resource-exhausted",
        `group ${name} has ${group.inFlight} messages in flight, the limit set by --max-group-in-flight is ${limit}; ack or nack some first`,
      );
    }
    return group.fetcher.next(n, AbortSignal.timeout(waitMs));
  }

  /**
   * Resolves once the state `group` has now (its acks) is durable: after the
   * write that carries it, at once in effect when nothing is pending. Lets
   * GetGroup report only acks a crash cannot lose.
   * @throws unavailable or resource-exhausted when that write fails.
   */
  async stateDurable(group: Group): Promise<void> {
    try {
      await this.deps.acks.mark(group, true);
    } catch (err) {
      throw fromStorageError(err);
    }
  }

  /** Acknowledges positions of a group; resolves once durable. */
  async ack(topicName: string, name: string, positions: readonly Position[]): Promise<AckOutcome> {
    this.deps.checkOpen();
    const outcome = this.get(topicName, name).ack(positions, true);
    await outcome.durable;
    return outcome;
  }

  /** Gives back messages leased by fetch. */
  nack(topicName: string, name: string, positions: readonly Position[], delayMs: number | undefined): void {
    this.deps.checkOpen();
    const group = this.get(topicName, name);
    group.nack(group.fetcher, positions, delayMs);
  }

  /** Extends leases taken by fetch to `ms` from now. */
  extend(topicName: string, name: string, positions: readonly Position[], ms: number): void {
    this.deps.checkOpen();
    const group = this.get(topicName, name);
    group.extend(group.fetcher, positions, checkDeadline(ms, "deadline"));
  }
}
