import type { DeliveryBatch } from "../broker/subscription.js";
import { int64Varint, varintLength, writeVarint } from "./varint.js";

// Field numbers from proto/sluice/v1/broker.proto and message.proto.
const RESPONSE_DELIVERIES = 2; // SubscribeResponse.deliveries
const DELIVERIES_DELIVERY = 1; // SubscribeResponse.Deliveries.deliveries, FetchResponse.deliveries
const DELIVERIES_DEADLINE = 2; // SubscribeResponse.Deliveries.deadline, FetchResponse.deadline
const DELIVERY_MESSAGE = 1; // Delivery.message
const DELIVERY_ATTEMPT = 2; // Delivery.attempt
const MESSAGE_TOPIC = 1;
const MESSAGE_PARTITION = 2;
const MESSAGE_OFFSET = 3;
const VARINT = 0;
const LENGTH_DELIMITED = 2;

/**
 * Encodes a `SubscribeResponse{deliveries}` straight from stored records:
 * each stored record already is a partial `Message`, so only topic,
 * partition, offset and the envelope are written here, with no decoding.
 * Sizes are computed first and everything is written into one buffer (a
 * BinaryWriter's chunk growth and final copy cost more than the writing);
 * the bytes are what BinaryWriter wrote (test/server/delivery-encoder.test.ts).
 */
export function encodeDeliveries(topic: string, batch: DeliveryBatch): Uint8Array {
  const topicBytes = Buffer.from(topic, "utf8");
  const inner = deliveriesLength(topicBytes, batch);
  const out = Buffer.allocUnsafe(1 + varintLength(inner) + inner);
  out[0] = (RESPONSE_DELIVERIES << 3) | LENGTH_DELIMITED;
  writeDeliveries(out, writeVarint(out, 1, inner), topicBytes, batch);
  return out;
}

/**
 * Encodes a `FetchResponse`, whose fields (deliveries = 1, deadline = 2) are
 * laid out like `SubscribeResponse.Deliveries`.
 */
export function encodeFetchResponse(topic: string, batch: DeliveryBatch): Uint8Array {
  const topicBytes = Buffer.from(topic, "utf8");
  const out = Buffer.allocUnsafe(deliveriesLength(topicBytes, batch));
  writeDeliveries(out, 0, topicBytes, batch);
  return out;
}

function messageLength(topic: Uint8Array, partition: number, offset: bigint, value: Uint8Array): number {
  return (
    1 + varintLength(topic.byteLength) + topic.byteLength +
    (partition !== 0 ? 1 + varintLength(partition) : 0) +
    (offset !== 0n ? 1 + varintLength(offset) : 0) +
    value.byteLength
  );
}

function deadlineParts(deadline: number): { seconds: number; nanos: number; length: number } {
  const seconds = Math.floor(deadline / 1000);
  const nanos = (deadline - seconds * 1000) * 1_000_000;
  return { seconds, nanos, length: 1 + int64Length(seconds) + (nanos !== 0 ? 1 + int64Length(nanos) : 0) };
}

function deliveriesLength(topic: Uint8Array, batch: DeliveryBatch): number {
  let n = 0;
  for (const d of batch.deliveries) {
    const m = messageLength(topic, d.partition, d.offset, d.value);
    const delivery = 1 + varintLength(m) + m + 1 + varintLength(d.attempt);
    n += 1 + varintLength(delivery) + delivery;
  }
  const t = deadlineParts(batch.deadline).length;
  return n + 1 + varintLength(t) + t;
}

function writeDeliveries(out: Buffer, p: number, topic: Uint8Array, batch: DeliveryBatch): number {
  for (const d of batch.deliveries) {
    const m = messageLength(topic, d.partition, d.offset, d.value);
    out[p++] = (DELIVERIES_DELIVERY << 3) | LENGTH_DELIMITED;
    p = writeVarint(out, p, 1 + varintLength(m) + m + 1 + varintLength(d.attempt));
    out[p++] = (DELIVERY_MESSAGE << 3) | LENGTH_DELIMITED;
    p = writeVarint(out, p, m);
    out[p++] = (MESSAGE_TOPIC << 3) | LENGTH_DELIMITED;
    p = writeVarint(out, p, topic.byteLength);
    out.set(topic, p);
    p += topic.byteLength;
    if (d.partition !== 0) {
      out[p++] = (MESSAGE_PARTITION << 3) | VARINT;
      p = writeVarint(out, p, d.partition);
    }
    if (d.offset !== 0n) {
      out[p++] = (MESSAGE_OFFSET << 3) | VARINT;
      p = writeVarint(out, p, d.offset);
    }
    out.set(d.value, p);
    p += d.value.byteLength;
    out[p++] = (DELIVERY_ATTEMPT << 3) | VARINT;
    p = writeVarint(out, p, d.attempt);
  }
  const { seconds, nanos, length } = deadlineParts(batch.deadline);
  out[p++] = (DELIVERIES_DEADLINE << 3) | LENGTH_DELIMITED;
  p = writeVarint(out, p, length);
  out[p++] = (1 << 3) | VARINT;
  p = writeVarint(out, p, int64Varint(seconds));
  if (nanos !== 0) {
    out[p++] = (2 << 3) | VARINT;
    p = writeVarint(out, p, int64Varint(nanos));
  }
  return p;
}

function int64Length(v: number): number {
  return varintLength(int64Varint(v));
}
