import { create } from "@bufbuild/protobuf";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import type { Client, MethodDefinition } from "@grpc/grpc-js";
import { groupInfo, topicInfo, type GroupInfo, type TopicInfo } from "./admin-types.js";
import { reconnectOptions, type ReconnectOptions } from "./backoff.js";
import { openGrpcStream } from "./bidi-stream.js";
import {
  channelCredentials,
  channelOptions,
  type CallOptions,
  type SluiceClientOptions,
} from "./client-options.js";
import { Code } from "./code.js";
import {
  AdminService,
  CreateGroupRequestSchema,
  CreateTopicRequestSchema,
  DeleteGroupRequestSchema,
  DeleteTopicRequestSchema,
  GetGroupRequestSchema,
  GetTopicRequestSchema,
  ListGroupsRequestSchema,
  ListTopicsRequestSchema,
} from "./gen/sluice/v1/admin_pb.js";
import { BrokerService, PublishRequestSchema, SubscribeRequestSchema } from "./gen/sluice/v1/broker_pb.js";
import { RetentionPolicySchema } from "./gen/sluice/v1/message_pb.js";
import { grpcClientConstructor, grpcServiceDefinition } from "./grpc-service.js";
import { silentLogger, type Logger } from "./logger.js";
import { toPublishMessage, type OutgoingMessage, type PublishResult } from "./outgoing-message.js";
import type { Payload } from "./payload.js";
import type { PublisherOptions } from "./publisher-options.js";
import { Publisher } from "./publisher.js";
import { SluiceError } from "./sluice-error.js";
import { groupSettingsMessage, startPositionMessage, type StartPosition } from "./start-position.js";
import type { SubscribeOptions } from "./subscribe-options.js";
import { Subscription } from "./subscription.js";
import { unaryCall } from "./unary-call.js";

const broker = grpcServiceDefinition(BrokerService);
const admin = grpcServiceDefinition(AdminService);
const BrokerClient = grpcClientConstructor(BrokerService);
const AdminClient = grpcClientConstructor(AdminService);

/** Options of {@link SluiceClient.createTopic}. */
export interface CreateTopicOptions {
  /** The partition count. Default 1. */
  partitions?: number;
  /** Maximum message age in ms. Default: the broker's (7 days). */
  retentionMaxAgeMs?: number;
  /** Maximum bytes per partition; `0n` is unlimited. Default unlimited. */
  retentionMaxBytes?: bigint;
}

/** Options of {@link SluiceClient.createGroup}. */
export interface CreateGroupOptions {
  /** Where the group starts. Default `"earliest"`. */
  start?: StartPosition;
  /** How long a delivered message stays leased before redelivery, in ms (1 000 to 600 000). Default 30 000. */
  ackDeadlineMs?: number;
}

/**
 * A connection to one Sluice broker: admin calls, one-off `publish`, and the
 * factories of {@link Publisher}s and {@link Subscription}s, which share the
 * client's single HTTP/2 channel. Every method rejects with a
 * {@link SluiceError} only.
 *
 * @example
 * const client = new SluiceClient("127.0.0.1:7070");
 * await client.createTopic("orders", { partitions: 4 });
 * const publisher = client.publisher("orders");
 * const { partition, offset } = await publisher.send({ key: "o-1", payload: json({ total: 12 }) });
 * await client.close();
 */
export class SluiceClient {
  /** The broker's address, `host:port`. */
  readonly address: string;
  readonly #broker: Client;
  readonly #admin: Client;
  readonly #deadlineMs: number;
  readonly #reconnect: ReconnectOptions;
  readonly #logger: Logger;
  readonly #children = new Set<Publisher | Subscription>();
  #closing: Promise<void> | undefined;

  /**
   * Creates a client; the connection is made lazily, on the first call.
   * @param address - `host:port` of the broker
   * @param options - TLS, keepalive, deadline, reconnection and logging
   */
  constructor(address: string, options: SluiceClientOptions = {}) {
    this.address = address;
    this.#deadlineMs = options.deadlineMs ?? 30_000;
    this.#reconnect = reconnectOptions(options.reconnect);
    this.#logger = options.logger ?? silentLogger;
    const creds = channelCredentials(options);
    const channel = channelOptions(options, this.#reconnect);
    this.#broker = new BrokerClient(address, creds, channel);
    // One channel for both services.
    this.#admin = new AdminClient(address, creds, { ...channel, channelOverride: this.#broker.getChannel() });
  }

  /** Creates a topic. Rejects with ALREADY_EXISTS, INVALID_ARGUMENT or RESOURCE_EXHAUSTED. */
  async createTopic(name: string, options: CreateTopicOptions = {}, call?: CallOptions): Promise<TopicInfo> {
    const retention =
      options.retentionMaxAgeMs !== undefined || options.retentionMaxBytes !== undefined
        ? create(RetentionPolicySchema, {
            maxAge: options.retentionMaxAgeMs !== undefined ? durationFromMs(options.retentionMaxAgeMs) : undefined,
            maxBytes: options.retentionMaxBytes ?? 0n,
          })
        : undefined;
    const request = create(CreateTopicRequestSchema, { name, partitions: options.partitions ?? 0, retention });
    return topicInfo((await this.#unary(this.#admin, admin.createTopic, request, call)).topic);
  }

  /** Describes a topic with its partitions. Rejects with NOT_FOUND. */
  async getTopic(name: string, call?: CallOptions): Promise<TopicInfo> {
    const request = create(GetTopicRequestSchema, { name });
    return topicInfo((await this.#unary(this.#admin, admin.getTopic, request, call)).topic);
  }

  /** Lists every topic in name order (without partition details), fetching page after page. */
  async listTopics(call?: CallOptions): Promise<TopicInfo[]> {
    const topics: TopicInfo[] = [];
    let pageToken = "";
    do {
      const request = create(ListTopicsRequestSchema, { pageSize: 1000, pageToken });
      const response = await this.#unary(this.#admin, admin.listTopics, request, call);
      for (const t of response.topics) topics.push(topicInfo(t));
      pageToken = response.nextPageToken;
    } while (pageToken !== "");
    return topics;
  }

  /** Deletes a topic, its messages and its groups. Rejects with NOT_FOUND. */
  async deleteTopic(name: string, call?: CallOptions): Promise<void> {
    await this.#unary(this.#admin, admin.deleteTopic, create(DeleteTopicRequestSchema, { name }), call);
  }

  /** Creates a consumer group. Rejects with NOT_FOUND (topic), ALREADY_EXISTS or INVALID_ARGUMENT. */
  async createGroup(topic: string, group: string, options: CreateGroupOptions = {}, call?: CallOptions): Promise<GroupInfo> {
    const request = create(CreateGroupRequestSchema, {
      topic,
      group,
      start: startPositionMessage(options.start),
      settings: groupSettingsMessage(options.ackDeadlineMs),
    });
    return groupInfo((await this.#unary(this.#admin, admin.createGroup, request, call)).group);
  }

  /** Describes a group: per-partition offsets, lag, in-flight counts and connected consumers. Rejects with NOT_FOUND. */
  async getGroup(topic: string, group: string, call?: CallOptions): Promise<GroupInfo> {
    const request = create(GetGroupRequestSchema, { topic, group });
    return groupInfo((await this.#unary(this.#admin, admin.getGroup, request, call)).group);
  }

  /** Lists a topic's groups in name order. Rejects with NOT_FOUND (topic). */
  async listGroups(topic: string, call?: CallOptions): Promise<GroupInfo[]> {
    const request = create(ListGroupsRequestSchema, { topic });
    return (await this.#unary(this.#admin, admin.listGroups, request, call)).groups.map(groupInfo);
  }

  /**
   * Deletes a group. Rejects with NOT_FOUND, or FAILED_PRECONDITION when
   * consumers are connected and `force` is not set (with `force` their
   * subscriptions end with ABORTED).
   */
  async deleteGroup(topic: string, group: string, options: { force?: boolean } = {}, call?: CallOptions): Promise<void> {
    const request = create(DeleteGroupRequestSchema, { topic, group, force: options.force ?? false });
    await this.#unary(this.#admin, admin.deleteGroup, request, call);
  }

  /**
   * Publishes a batch in one request and resolves, once the broker has
   * stored all of it, with each message's position, in order. For a steady
   * flow prefer a {@link Publisher}. Rejects with INVALID_ARGUMENT,
   * NOT_FOUND or RESOURCE_EXHAUSTED (request too large).
   */
  async publish(topic: string, messages: readonly (OutgoingMessage | Payload)[], call?: CallOptions): Promise<PublishResult[]> {
    let wire;
    try {
      wire = messages.map((m) => toPublishMessage(m));
    } catch (err) {
      throw SluiceError.from(err);
    }
    const request = create(PublishRequestSchema, { topic, messages: wire });
    const response = await this.#unary(this.#broker, broker.publish, request, call);
    return response.results.map((r) => ({ partition: r.partition, offset: r.offset, duplicate: r.duplicate }));
  }

  /** A {@link Publisher} to `topic`, batching and pipelining `send`s over one stream. */
  publisher(topic: string, options: PublisherOptions = {}): Publisher {
    this.#assertOpen();
    const publisher: Publisher = new Publisher(topic, options, {
      open: openGrpcStream(this.#broker, broker.publishStream),
      reconnect: { ...this.#reconnect, ...options.reconnect },
      logger: this.#logger,
      onClosed: () => this.#children.delete(publisher),
    });
    this.#children.add(publisher);
    return publisher;
  }

  /**
   * A {@link Subscription} to `topic` through consumer `group` (created with
   * `start` and `ackDeadlineMs` if it does not exist). The stream opens at
   * once; iterate it or call `process`.
   */
  subscribe(topic: string, group: string, options: SubscribeOptions = {}): Subscription {
    this.#assertOpen();
    const openRequest = create(SubscribeRequestSchema, {
      request: {
        case: "open",
        value: {
          topic,
          group,
          maxInFlight: options.maxInFlight ?? 0,
          start: startPositionMessage(options.start),
          settings: groupSettingsMessage(options.ackDeadlineMs),
          consumerName: options.consumerName ?? "",
        },
      },
    });
    const subscription: Subscription = new Subscription(topic, group, options.signal, {
      open: openGrpcStream(this.#broker, broker.subscribe),
      openRequest,
      reconnect: { ...this.#reconnect, ...options.reconnect },
      logger: this.#logger,
      maxLeaseMs: options.maxLeaseMs ?? 600_000,
      onClosed: () => this.#children.delete(subscription),
    });
    this.#children.add(subscription);
    return subscription;
  }

  /**
   * Closes every publisher (waiting for their confirmations) and
   * subscription (writing their acks), then the connection. Calls after
   * `close()` reject with FAILED_PRECONDITION. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await Promise.allSettled([...this.#children].map((c) => c.close()));
      this.#broker.close();
      this.#admin.close();
    })();
    return this.#closing;
  }

  /** Closes the client (`await using client = new SluiceClient(...)`). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #assertOpen(): void {
    if (this.#closing) throw new SluiceError(Code.FailedPrecondition, "the client is closed");
  }

  #unary<I, O>(client: Client, method: MethodDefinition<I, O>, request: I, call?: CallOptions): Promise<O> {
    if (this.#closing) return Promise.reject(new SluiceError(Code.FailedPrecondition, "the client is closed"));
    return unaryCall(client, method, request, call?.deadlineMs ?? this.#deadlineMs, call?.signal);
  }
}
