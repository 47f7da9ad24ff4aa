import { create } from "@bufbuild/protobuf";
import type { Client, MethodDefinition } from "@grpc/grpc-js";
import {
  createGroupRequest,
  createTopicRequest,
  seekGroupRequest,
  updateGroupRequest,
  updateTopicRequest,
  type CreateGroupOptions,
  type CreateTopicOptions,
  type UpdateTopicOptions,
} from "./admin-requests.js";
import { groupInfo, topicInfo, type GroupInfo, type TopicInfo } from "./admin-types.js";
import { reconnectOptions, type ReconnectOptions } from "./backoff.js";
import { openGrpcStream } from "./bidi-stream.js";
import {
  callInterceptors,
  channelCredentials,
  channelOptions,
  type CallOptions,
  type SluiceClientOptions,
} from "./client-options.js";
import { Code } from "./code.js";
import {
  AdminService,
  DeleteGroupRequestSchema,
  DeleteTopicRequestSchema,
  GetGroupRequestSchema,
  GetTopicRequestSchema,
  ListGroupsRequestSchema,
  ListTopicsRequestSchema,
} from "./gen/sluice/v1/admin_pb.js";
import { BrokerService, PublishRequestSchema } from "./gen/sluice/v1/broker_pb.js";
import { Fetcher, type FetchOptions } from "./fetcher.js";
import { grpcClientConstructor, grpcServiceDefinition } from "./grpc-service.js";
import type { GroupSettings } from "./group-settings.js";
import { silentLogger, type Logger } from "./logger.js";
import { toPublishMessage, type OutgoingMessage, type PublishResult } from "./outgoing-message.js";
import type { Payload } from "./payload.js";
import type { PublisherOptions } from "./publisher-options.js";
import { Publisher } from "./publisher.js";
import type { ReceivedMessage } from "./received-message.js";
import type { SeekTarget } from "./seek-target.js";
import { SluiceError } from "./sluice-error.js";
import { subscribeOpenRequest, type SubscribeOptions } from "./subscribe-options.js";
import { Subscription } from "./subscription.js";
import { unaryCall } from "./unary-call.js";

const broker = grpcServiceDefinition(BrokerService);
const admin = grpcServiceDefinition(AdminService);
const BrokerClient = grpcClientConstructor(BrokerService);
const AdminClient = grpcClientConstructor(AdminService);

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
  readonly #fetcher: Fetcher;
  #closing: Promise<void> | undefined;
  #channelClosed = false;

  /**
   * Creates a client; the connection is made lazily, on the first call.
   * @param address - `host:port` of the broker
   * @param options - TLS, token, keepalive, deadline, reconnection and logging
   * @throws SluiceError INVALID_ARGUMENT for a malformed token, or a TLS `cert` without `key`
   */
  constructor(address: string, options: SluiceClientOptions = {}) {
    this.address = address;
    this.#deadlineMs = options.deadlineMs ?? 30_000;
    this.#reconnect = reconnectOptions(options.reconnect);
    this.#logger = options.logger ?? silentLogger;
    const creds = channelCredentials(options);
    const channel = { ...channelOptions(options, this.#reconnect), interceptors: callInterceptors(options) };
    this.#broker = new BrokerClient(address, creds, channel);
    // One channel for both services.
    this.#admin = new AdminClient(address, creds, { ...channel, channelOverride: this.#broker.getChannel() });
    this.#fetcher = new Fetcher((method, request, call) => this.#brokerCall(method, request, call), this.#deadlineMs, this.#logger);
  }

  /** Creates a topic. Rejects with ALREADY_EXISTS, INVALID_ARGUMENT or RESOURCE_EXHAUSTED. */
  async createTopic(name: string, options: CreateTopicOptions = {}, call?: CallOptions): Promise<TopicInfo> {
    const request = createTopicRequest(name, options);
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

  /**
   * Changes a topic; only what `changes` gives changes: `retention` (the
   * whole policy is replaced), `dedupeWindowMs`, and `partitions` (increase
   * only). Resolves with the updated topic. Rejects with NOT_FOUND or
   * INVALID_ARGUMENT (fewer partitions, bad values).
   */
  async updateTopic(name: string, changes: UpdateTopicOptions, call?: CallOptions): Promise<TopicInfo> {
    const request = updateTopicRequest(name, changes);
    return topicInfo((await this.#unary(this.#admin, admin.updateTopic, request, call)).topic);
  }

  /** Deletes a topic, its messages and its groups. Rejects with NOT_FOUND. */
  async deleteTopic(name: string, call?: CallOptions): Promise<void> {
    await this.#unary(this.#admin, admin.deleteTopic, create(DeleteTopicRequestSchema, { name }), call);
  }

  /** Creates a consumer group. Rejects with NOT_FOUND (topic), ALREADY_EXISTS or INVALID_ARGUMENT. */
  async createGroup(topic: string, group: string, options: CreateGroupOptions = {}, call?: CallOptions): Promise<GroupInfo> {
    const request = createGroupRequest(topic, group, options);
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
   * Changes a live group's settings; only the fields given change (e.g.
   * `deadLetterTopic: ""` removes the dead-letter topic, `maxDeliveries: 0`
   * the limit). Connected consumers continue under the new settings.
   * Resolves with the updated group. Rejects with NOT_FOUND or INVALID_ARGUMENT.
   */
  async updateGroup(topic: string, group: string, settings: GroupSettings, call?: CallOptions): Promise<GroupInfo> {
    const request = updateGroupRequest(topic, group, settings);
    return groupInfo((await this.#unary(this.#admin, admin.updateGroup, request, call)).group);
  }

  /**
   * Moves a group to `target` (see {@link SeekTarget}): leases, pending
   * redeliveries and acks at or above the new position are cleared, and
   * connected consumers continue from there. Resolves with the group at its
   * new position. Rejects with NOT_FOUND or INVALID_ARGUMENT (a partition
   * out of range, an empty `offsets` list).
   */
  async seekGroup(topic: string, group: string, target: SeekTarget, call?: CallOptions): Promise<GroupInfo> {
    const request = seekGroupRequest(topic, group, target);
    return groupInfo((await this.#unary(this.#admin, admin.seekGroup, request, call)).group);
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

  /**
   * Pull-style consuming: leases up to `maxMessages` of `group`'s messages
   * under the group's ack deadline, waiting up to `maxWaitMs` for the first;
   * resolves with `[]` when none came. The messages' `ack()`, `nack()` and
   * `extend()` use the unary Ack, Nack and ExtendDeadline calls (coalesced
   * per event-loop turn) and resolve when the broker answered; leases are not
   * extended automatically. Fetch and subscriptions share the group's
   * messages: one is never leased to both. Rejects with NOT_FOUND (fetch does
   * not create groups) or INVALID_ARGUMENT.
   */
  async fetch(topic: string, group: string, options: FetchOptions = {}, call?: CallOptions): Promise<ReceivedMessage[]> {
    this.#assertOpen();
    return this.#fetcher.fetch(topic, group, options, call);
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
   * `start` and the group settings of `options` if it does not exist). The
   * stream opens at once; iterate it or call `process`. Throws a
   * {@link SluiceError} (INVALID_ARGUMENT) for settings with no wire form.
   */
  subscribe(topic: string, group: string, options: SubscribeOptions = {}): Subscription {
    this.#assertOpen();
    const openRequest = subscribeOpenRequest(topic, group, options);
    const subscription: Subscription = new Subscription(topic, group, options.signal, {
      open: openGrpcStream(this.#broker, broker.subscribe),
      openRequest,
      reconnect: { ...this.#reconnect, ...options.reconnect },
      logger: this.#logger,
      maxLeaseMs: options.maxLeaseMs ?? 600_000,
      confirmAcks: options.confirmAcks ?? false,
      onClosed: () => this.#children.delete(subscription),
    });
    this.#children.add(subscription);
    return subscription;
  }

  /**
   * Closes every publisher (waiting for their confirmations) and
   * subscription (writing their acks), waits for the verbs of fetched
   * messages made so far to be answered, then closes the connection. Calls
   * after `close()` reject with FAILED_PRECONDITION. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await Promise.allSettled([...this.#children].map((c) => c.close()));
      await this.#fetcher.idle();
      this.#channelClosed = true;
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

  /** A BrokerService call of the fetcher: its verbs still go out while `close()` waits for them. */
  #brokerCall<I, O>(method: MethodDefinition<I, O>, request: I, call?: CallOptions): Promise<O> {
    if (this.#channelClosed) return Promise.reject(new SluiceError(Code.FailedPrecondition, "the client is closed"));
    return unaryCall(this.#broker, method, request, call?.deadlineMs ?? this.#deadlineMs, call?.signal);
  }
}
