import type { RecordInput } from "./record-codec.js";

/** One message to publish. */
export interface PublishInput extends RecordInput {
  /** Explicit partition; overrides the key hash. */
  readonly partition?: number | undefined;
}

/** Where one published message was stored. */
export interface PublishResult {
  readonly partition: number;
  readonly offset: bigint;
  /** Set when the message repeated an id seen within the topic's dedupe window: nothing was stored. */
  readonly duplicate?: boolean;
}

/** Where a new group starts. */
export type StartPosition =
  | { readonly kind: "earliest" }
  | { readonly kind: "latest" }
  | { readonly kind: "offset"; readonly offset: bigint }
  | { readonly kind: "timestamp"; readonly timeMs: number };

/** Settings of a consumer group. */
export interface GroupSettings {
  readonly ackDeadlineMs: number;
  /** One message per key at a time, in offset order. */
  readonly ordered: boolean;
  /** Backoff before a redelivery after a nack without delay or an expiry; 0/0 = none. */
  readonly retryBackoffMinMs: number;
  readonly retryBackoffMaxMs: number;
  /** Deliveries without an ack before a message is dead-lettered; 0 = unlimited. */
  readonly maxDeliveries: number;
  /** Where dead-lettered messages go; empty = dropped and counted. */
  readonly deadLetterTopic: string;
}

/** Why a message was dead-lettered. */
export type DeadLetterReason = "deadline" | "nack";

/** Settings for a new topic. */
export interface TopicSettings {
  readonly partitions: number;
  readonly retentionMaxAgeMs: number;
  readonly retentionMaxBytes: bigint;
  /** 0 = no dedupe. */
  readonly dedupeWindowMs: number;
}

/** Changes to a topic's settings (UpdateTopic); absent fields stay as they are. */
export interface TopicChanges {
  /** At least the current count. */
  readonly partitions?: number | undefined;
  /** 0 = the default (7 days). */
  readonly retentionMaxAgeMs?: number | undefined;
  /** 0 = unlimited. */
  readonly retentionMaxBytes?: bigint | undefined;
  /** 0 = no dedupe. */
  readonly dedupeWindowMs?: number | undefined;
}

/** A partition's bounds, as admin calls report them. */
export interface PartitionInfo {
  readonly partition: number;
  readonly start: bigint;
  readonly end: bigint;
  /** Approximate bytes of its retained records (GetTopic only). */
  readonly bytes?: bigint;
  /** Publish time of its oldest retained record; undefined when empty (GetTopic only). */
  readonly oldestPublishTimeMs?: number | undefined;
}

/** A group's state in one partition, as GetGroup reports it. */
export interface GroupPartitionInfo {
  readonly partition: number;
  readonly committed: bigint;
  readonly end: bigint;
  readonly lag: bigint;
  readonly inFlight: number;
  readonly ackedAbove: bigint;
  readonly pendingRedelivery: number;
  /** When the earliest waiting message is due (ms), if any. */
  readonly nextRedeliveryAt: number | undefined;
  readonly deadLettered: bigint;
  readonly dropped: bigint;
  readonly skipped: bigint;
}

/** A connected consumer, as GetGroup reports it. */
export interface ConsumerInfo {
  readonly id: string;
  readonly name: string;
  readonly peer: string;
  readonly inFlight: number;
  readonly maxInFlight: number;
  readonly connectedAt: number;
}

/** The broker's limits; each has a flag. */
export interface BrokerLimits {
  /** Key + payload + headers of one message. */
  readonly maxMessageBytes: number;
  readonly maxPartitions: number;
  readonly maxTopics: number;
  /** The largest `max_in_flight` a subscription may ask for. */
  readonly maxInFlight: number;
  /** Unacknowledged deliveries of one group, all its streams and Fetch calls together. */
  readonly maxGroupInFlight: number;
  /** Dedupe index entries kept in memory, broker-wide; the oldest are evicted beyond it. */
  readonly dedupeMaxEntries: number;
  /** Bytes of messages accepted and not yet durable, broker-wide, before PublishStreams stop reading (see `publish-budget.ts`). */
  readonly maxPendingPublishBytes: number;
}

export const DEFAULT_LIMITS: BrokerLimits = {
  maxMessageBytes: 1 << 20,
  maxPartitions: 1024,
  maxTopics: 100_000,
  maxInFlight: 100_000,
  // Each leased message costs about 450 B of live heap (lease, offset,
  // indexes, its encoded delivery until sent), and the heap runs at 2-4x its
  // live size between full GCs: 100k leases are ~45 MB live, where 1M could
  // pin ~450 MB live and over 1 GB of RSS.
  maxGroupInFlight: 100_000,
  dedupeMaxEntries: 1_000_000,
  maxPendingPublishBytes: 16 << 20,
};

export const DEFAULT_ACK_DEADLINE_MS = 30_000;

export const DEFAULT_GROUP_SETTINGS: GroupSettings = {
  ackDeadlineMs: DEFAULT_ACK_DEADLINE_MS,
  ordered: false,
  retryBackoffMinMs: 0,
  retryBackoffMaxMs: 0,
  maxDeliveries: 0,
  deadLetterTopic: "",
};
export const MIN_ACK_DEADLINE_MS = 1_000;
export const MAX_ACK_DEADLINE_MS = 600_000;
/**
 * The `max_in_flight` of a stream that asks for none. Broker memory grows
 * with leases, and many streams of one group multiply it: 100 streams at
 * 1000 each held 100k leases and peaked at ~400 MB RSS consuming a backlog,
 * at 100 each ~200 MB, with the same throughput on a local network (a stream
 * keeps 100 messages per round trip in flight). Clients that need a deeper
 * window over a long round trip ask for it.
 */
export const DEFAULT_MAX_IN_FLIGHT = 100;
export const DEFAULT_RETENTION_MS = 7 * 24 * 3600 * 1000;
export const DEFAULT_DEDUPE_WINDOW_MS = 2 * 60 * 1000;
export const MAX_DEDUPE_WINDOW_MS = 24 * 3600 * 1000;
/** Time between two retention passes. */
export const DEFAULT_RETENTION_INTERVAL_MS = 30_000;
