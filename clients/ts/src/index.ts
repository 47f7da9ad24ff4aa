/**
 * @sluice/client: the TypeScript client of the Sluice message broker.
 *
 * What applications use: {@link SluiceClient} and what it creates
 * ({@link Publisher}, {@link Subscription}, {@link ReceivedMessage}, from a
 * subscription or from `fetch`), the option and result types, the one
 * error class {@link SluiceError} with its {@link Code}s, and the payload
 * helpers. Everything else in the package is internal.
 *
 * @packageDocumentation
 */

export { SluiceClient } from "./sluice-client.js";
export type { CreateGroupOptions, CreateTopicOptions, UpdateTopicOptions } from "./admin-requests.js";
export type { GroupSettings, GroupSettingsInfo, RetryBackoff } from "./group-settings.js";
export type { SeekTarget } from "./seek-target.js";
export type { FetchOptions } from "./fetcher.js";
export type { CallOptions, SluiceClientOptions, TlsOptions } from "./client-options.js";
export { Publisher } from "./publisher.js";
export type { PublisherOptions } from "./publisher-options.js";
export { Subscription } from "./subscription.js";
export type { ProcessOptions, SubscribeOptions } from "./subscribe-options.js";
export { ReceivedMessage } from "./received-message.js";
export type { OutgoingMessage, PublishResult } from "./outgoing-message.js";
export { json, encodePayload, decodeText, decodeJson, type JsonValue, type Payload } from "./payload.js";
export type { StartPosition } from "./start-position.js";
export type {
  ConsumerInfo,
  GroupInfo,
  GroupPartitionInfo,
  Retention,
  TopicInfo,
  TopicPartitionInfo,
} from "./admin-types.js";
export type { ConnectionStatus } from "./connection-status.js";
export { backoffDelay, defaultReconnect, type BackoffOptions, type ReconnectOptions } from "./backoff.js";
export type { Logger } from "./logger.js";
export { SluiceError } from "./sluice-error.js";
export { SendBatchError } from "./send-batch-error.js";
export { Code, codeName } from "./code.js";
export { grpcClientConstructor, grpcServiceDefinition, type GrpcServiceDefinition } from "./grpc-service.js";
