/**
 * Encodings of the rarely written metadata values of {@link LevelStorage}:
 * topic and group metadata as JSON (bigints as decimal strings), the id
 * counters as two big-endian u32s. Encoders throw `RangeError` on metadata
 * that could not be loaded back; decoders throw {@link StorageError}
 * `corrupt` on anything they did not write.
 */

import { StorageError, type GroupMeta, type TopicMeta } from "./storage.js";
import { assertU32 } from "./validate.js";

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** Throws `RangeError` unless every field has a storable value. */
export function assertTopicMeta(meta: TopicMeta): void {
  assertU32("topic id", meta.id);
  assertString("topic name", meta.name);
  assertU32("topic partitions", meta.partitions);
  assertNonNegative("topic retentionMaxAgeMs", meta.retentionMaxAgeMs);
  if (typeof meta.retentionMaxBytes !== "bigint" || meta.retentionMaxBytes < 0n) {
    throw new RangeError(`topic retentionMaxBytes must be a non-negative bigint, got ${meta.retentionMaxBytes}`);
  }
  assertInteger("topic createdAt", meta.createdAt);
  assertNonNegative("topic dedupeWindowMs", meta.dedupeWindowMs);
}

/** Throws `RangeError` unless every field has a storable value. */
export function assertGroupMeta(meta: GroupMeta): void {
  assertU32("group id", meta.id);
  assertU32("group topicId", meta.topicId);
  assertString("group name", meta.name);
  assertNonNegative("group ackDeadlineMs", meta.ackDeadlineMs);
  assertInteger("group createdAt", meta.createdAt);
  if (typeof meta.ordered !== "boolean") throw new RangeError("group ordered must be a boolean");
  assertNonNegative("group retryBackoffMinMs", meta.retryBackoffMinMs);
  assertNonNegative("group retryBackoffMaxMs", meta.retryBackoffMaxMs);
  assertNonNegative("group maxDeliveries", meta.maxDeliveries);
  assertString("group deadLetterTopic", meta.deadLetterTopic);
}

/** Encodes a topic's metadata. */
export function encodeTopicMeta(meta: TopicMeta): Uint8Array {
  assertTopicMeta(meta);
  return encoder.encode(
    JSON.stringify({
      id: meta.id,
      name: meta.name,
      partitions: meta.partitions,
      retentionMaxAgeMs: meta.retentionMaxAgeMs,
      retentionMaxBytes: meta.retentionMaxBytes.toString(),
      createdAt: meta.createdAt,
      dedupeWindowMs: meta.dedupeWindowMs,
    }),
  );
}

/** Decodes a topic's metadata. */
export function decodeTopicMeta(bytes: Uint8Array): TopicMeta {
  const o = parseObject(bytes, "topic");
  const retention = o["retentionMaxBytes"];
  return checked("topic", assertTopicMeta, {
    id: o["id"] as number,
    name: o["name"] as string,
    partitions: o["partitions"] as number,
    retentionMaxAgeMs: o["retentionMaxAgeMs"] as number,
    retentionMaxBytes: typeof retention === "string" && /^\d+$/.test(retention) ? BigInt(retention) : -1n,
    createdAt: o["createdAt"] as number,
    dedupeWindowMs: (o["dedupeWindowMs"] ?? 120_000) as number,
  });
}

/** Encodes a group's metadata. */
export function encodeGroupMeta(meta: GroupMeta): Uint8Array {
  assertGroupMeta(meta);
  return encoder.encode(
    JSON.stringify({
      id: meta.id,
      topicId: meta.topicId,
      name: meta.name,
      ackDeadlineMs: meta.ackDeadlineMs,
      createdAt: meta.createdAt,
      ordered: meta.ordered,
      retryBackoffMinMs: meta.retryBackoffMinMs,
      retryBackoffMaxMs: meta.retryBackoffMaxMs,
      maxDeliveries: meta.maxDeliveries,
      deadLetterTopic: meta.deadLetterTopic,
    }),
  );
}

/** Decodes a group's metadata. */
export function decodeGroupMeta(bytes: Uint8Array): GroupMeta {
  const o = parseObject(bytes, "group");
  return checked("group", assertGroupMeta, {
    id: o["id"] as number,
    topicId: o["topicId"] as number,
    name: o["name"] as string,
    ackDeadlineMs: o["ackDeadlineMs"] as number,
    createdAt: o["createdAt"] as number,
    // Settings added later default to their off values.
    ordered: (o["ordered"] ?? false) as boolean,
    retryBackoffMinMs: (o["retryBackoffMinMs"] ?? 0) as number,
    retryBackoffMaxMs: (o["retryBackoffMaxMs"] ?? 0) as number,
    maxDeliveries: (o["maxDeliveries"] ?? 0) as number,
    deadLetterTopic: (o["deadLetterTopic"] ?? "") as string,
  });
}

/** Encodes the next-ids counters. */
export function encodeNextIds(nextTopicId: number, nextGroupId: number): Uint8Array {
  const bytes = new Uint8Array(8);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, nextTopicId);
  view.setUint32(4, nextGroupId);
  return bytes;
}

/** Decodes the next-ids counters. */
export function decodeNextIds(bytes: Uint8Array): { nextTopicId: number; nextGroupId: number } {
  if (bytes.byteLength !== 8) throw malformed("next-ids");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { nextTopicId: view.getUint32(0), nextGroupId: view.getUint32(4) };
}

function parseObject(bytes: Uint8Array, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(bytes));
  } catch (cause) {
    throw malformed(what, cause);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw malformed(what);
  return value as Record<string, unknown>;
}

/** Returns `meta` when it passes `assert`; a `corrupt` error otherwise. */
function checked<T>(what: string, assert: (meta: T) => void, meta: T): T {
  try {
    assert(meta);
    return meta;
  } catch (cause) {
    throw malformed(what, cause);
  }
}

function malformed(what: string, cause?: unknown): StorageError {
  return new StorageError("corrupt", `stored ${what} metadata is malformed`, { cause });
}

function assertString(name: string, value: string): void {
  if (typeof value !== "string") throw new RangeError(`${name} must be a string`);
}

function assertInteger(name: string, value: number): void {
  if (!Number.isSafeInteger(value)) throw new RangeError(`${name} must be a safe integer, got ${value}`);
}

function assertNonNegative(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${name} must be a non-negative safe integer, got ${value}`);
  }
}
