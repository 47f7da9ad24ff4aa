import type { PublishMessage } from "./gen/sluice/v1/message_pb.js";
import { Code } from "./code.js";
import { encodePayload, type Payload } from "./payload.js";
import { SluiceError } from "./sluice-error.js";
import { utf8Length } from "./utf8.js";

/** A message to publish. Only `payload` is required. */
export interface OutgoingMessage {
  /** The payload: bytes, a UTF-8 string, or `json(value)`. */
  payload: Payload;
  /** Messages with the same key go to the same partition (unless `partition` is set). */
  key?: string;
  /** Application headers, delivered unchanged. */
  headers?: Readonly<Record<string, string>>;
  /** An explicit partition; overrides the key hash. */
  partition?: number;
  /**
   * An id for the broker's deduplication of resends. A `Publisher` sets one
   * itself when this is empty (see `autoMessageId`).
   */
  messageId?: string;
}

/** Where a published message was stored. */
export interface PublishResult {
  /** The partition that holds it. */
  partition: number;
  /** Its offset in that partition. */
  offset: bigint;
  /**
   * True when the broker had already stored a message with the same
   * `messageId` within the topic's dedupe window: nothing new was stored and
   * the position is the original's.
   */
  duplicate: boolean;
}

const EMPTY: Readonly<Record<string, string>> = Object.freeze({});

/**
 * The wire form of a message (a bare payload is a message without key and
 * headers). `messageId` fills in the id when the message has none. Throws a
 * {@link SluiceError} with {@link Code.InvalidArgument} for a bad payload or
 * partition.
 * @internal
 */
export function toPublishMessage(message: OutgoingMessage | Payload, messageId = ""): PublishMessage {
  const m: OutgoingMessage = typeof message === "string" || message instanceof Uint8Array ? { payload: message } : message;
  if (m === null || typeof m !== "object") {
    throw new SluiceError(Code.InvalidArgument, "a message must be an object with a payload, a string or a Uint8Array");
  }
  const p = m.partition;
  if (p !== undefined && (!Number.isInteger(p) || p < 0 || p > 0xffffffff)) {
    throw new SluiceError(Code.InvalidArgument, `partition must be a uint32, got ${p}`);
  }
  // A plain object with every field present is a valid protobuf-es v2
  // message; building it directly skips `create()`'s field-by-field copy on
  // the publish hot path.
  return {
    $typeName: "sluice.v1.PublishMessage",
    key: m.key ?? "",
    payload: encodePayload(m.payload),
    headers: (m.headers ?? EMPTY) as Record<string, string>,
    partition: p,
    messageId: m.messageId || messageId,
  };
}

/**
 * An upper estimate of a message's encoded size in bytes, used for batch and
 * unconfirmed-bytes bounds without encoding the message twice.
 * @internal
 */
export function estimateBytes(m: PublishMessage): number {
  let n = 16 + m.payload.byteLength + utf8Length(m.key) + utf8Length(m.messageId);
  for (const k in m.headers) n += 8 + utf8Length(k) + utf8Length(m.headers[k] as string);
  return n;
}
