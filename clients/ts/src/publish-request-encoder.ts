import type { PublishMessage } from "./gen/sluice/v1/message_pb.js";
import { utf8Length, writeUtf8 } from "./utf8.js";
import { bigVarintLength, fieldLength, varintLength, writeBigVarint, writeVarint } from "./varint-writer.js";

/**
 * The protobuf encoding of a `PublishStreamRequest`, written by hand: the
 * publish hot path encodes thousands of messages per request, and
 * protobuf-es's generic `toBinary` (a writer that grows and forks per
 * message) cost more CPU than everything else the publisher does per
 * message. Sizes first, then one write into a buffer of exactly that size.
 * The output is byte for byte what `toBinary` writes (see the tests).
 * @internal
 */

// Tags: (field number << 3) | wire type.
const REQUEST_ID = 0x08; // 1, varint
const TOPIC = 0x12; // 2, length-delimited
const MESSAGES = 0x1a; // 3, length-delimited
const KEY = 0x0a; // PublishMessage.key = 1
const PAYLOAD = 0x12; // PublishMessage.payload = 2
const HEADERS = 0x1a; // PublishMessage.headers = 3 (map entries)
const PARTITION = 0x20; // PublishMessage.partition = 4, varint
const MESSAGE_ID = 0x2a; // PublishMessage.message_id = 5
const ENTRY_KEY = 0x0a;
const ENTRY_VALUE = 0x12;

/** The encoded size of one message's body, with its UTF-8 lengths in `lengths` (key, id). */
function messageLength(m: PublishMessage, lengths: Int32Array, i: number): number {
  const keyLength = utf8Length(m.key);
  const idLength = utf8Length(m.messageId);
  lengths[2 * i] = keyLength;
  lengths[2 * i + 1] = idLength;
  let n = 0;
  if (keyLength > 0) n += fieldLength(keyLength);
  if (m.payload.byteLength > 0) n += fieldLength(m.payload.byteLength);
  for (const k in m.headers) n += fieldLength(entryLength(k, m.headers[k] as string));
  if (m.partition !== undefined) n += 1 + varintLength(m.partition);
  if (idLength > 0) n += fieldLength(idLength);
  return n;
}

/** The encoded size of one map entry's body: key and value are always written, as protobuf-es does. */
function entryLength(key: string, value: string): number {
  return fieldLength(utf8Length(key)) + fieldLength(utf8Length(value));
}

function writeString(out: Buffer, p: number, tag: number, s: string, length: number): number {
  out[p++] = tag;
  p = writeVarint(out, p, length);
  return writeUtf8(out, p, s, length);
}

/** Encodes a `PublishStreamRequest` of `messages` (already validated by `toPublishMessage`). */
export function encodePublishStreamRequest(requestId: bigint, topic: string, messages: readonly PublishMessage[]): Buffer {
  const lengths = new Int32Array(messages.length * 2);
  const bodies = new Array<number>(messages.length);
  const topicLength = utf8Length(topic);
  let total = 0;
  if (requestId !== 0n) total += 1 + bigVarintLength(requestId);
  if (topicLength > 0) total += fieldLength(topicLength);
  for (let i = 0; i < messages.length; i++) {
    const n = messageLength(messages[i]!, lengths, i);
    bodies[i] = n;
    total += fieldLength(n);
  }
  const out = Buffer.allocUnsafe(total);
  let p = 0;
  if (requestId !== 0n) {
    out[p++] = REQUEST_ID;
    p = writeBigVarint(out, p, requestId);
  }
  if (topicLength > 0) p = writeString(out, p, TOPIC, topic, topicLength);
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i]!;
    out[p++] = MESSAGES;
    p = writeVarint(out, p, bodies[i]!);
    const keyLength = lengths[2 * i]!;
    const idLength = lengths[2 * i + 1]!;
    if (keyLength > 0) p = writeString(out, p, KEY, m.key, keyLength);
    if (m.payload.byteLength > 0) {
      out[p++] = PAYLOAD;
      p = writeVarint(out, p, m.payload.byteLength);
      out.set(m.payload, p);
      p += m.payload.byteLength;
    }
    for (const k in m.headers) {
      const v = m.headers[k] as string;
      out[p++] = HEADERS;
      p = writeVarint(out, p, entryLength(k, v));
      p = writeString(out, p, ENTRY_KEY, k, utf8Length(k));
      p = writeString(out, p, ENTRY_VALUE, v, utf8Length(v));
    }
    if (m.partition !== undefined) {
      out[p++] = PARTITION;
      p = writeVarint(out, p, m.partition);
    }
    if (idLength > 0) p = writeString(out, p, MESSAGE_ID, m.messageId, idLength);
  }
  if (p !== total) throw new Error(`publish request encoding wrote ${p} bytes, expected ${total}`);
  return out;
}
