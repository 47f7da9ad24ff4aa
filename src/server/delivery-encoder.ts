import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import type { DeliveryBatch } from "../broker/subscription.js";

// Field numbers from proto/sluice/v1/broker.proto and message.proto.
const RESPONSE_DELIVERIES = 2; // SubscribeResponse.deliveries
const DELIVERIES_DELIVERY = 1; // SubscribeResponse.Deliveries.deliveries, FetchResponse.deliveries
const DELIVERIES_DEADLINE = 2; // SubscribeResponse.Deliveries.deadline, FetchResponse.deadline
const DELIVERY_MESSAGE = 1; // Delivery.message
const DELIVERY_ATTEMPT = 2; // Delivery.attempt
const MESSAGE_TOPIC = 1;
const MESSAGE_PARTITION = 2;
const MESSAGE_OFFSET = 3;

/**
 * Encodes a `SubscribeResponse{deliveries}` straight from stored records:
 * each stored record already is a partial `Message`, so only topic,
 * partition, offset and the envelope are written here, with no decoding.
 */
export function encodeDeliveries(topic: string, batch: DeliveryBatch): Uint8Array {
  const w = new BinaryWriter();
  w.tag(RESPONSE_DELIVERIES, WireType.LengthDelimited).fork();
  writeDeliveries(w, topic, batch);
  w.join();
  return w.finish();
}

/**
 * Encodes a `FetchResponse`, whose fields (deliveries = 1, deadline = 2) are
 * laid out like `SubscribeResponse.Deliveries`.
 */
export function encodeFetchResponse(topic: string, batch: DeliveryBatch): Uint8Array {
  const w = new BinaryWriter();
  writeDeliveries(w, topic, batch);
  return w.finish();
}

function writeDeliveries(w: BinaryWriter, topic: string, batch: DeliveryBatch): void {
  for (const d of batch.deliveries) {
    w.tag(DELIVERIES_DELIVERY, WireType.LengthDelimited).fork();
    w.tag(DELIVERY_MESSAGE, WireType.LengthDelimited).fork();
    w.tag(MESSAGE_TOPIC, WireType.LengthDelimited).string(topic);
    if (d.partition !== 0) w.tag(MESSAGE_PARTITION, WireType.Varint).uint32(d.partition);
    if (d.offset !== 0n) w.tag(MESSAGE_OFFSET, WireType.Varint).uint64(d.offset);
    w.raw(d.value);
    w.join();
    w.tag(DELIVERY_ATTEMPT, WireType.Varint).uint32(d.attempt);
    w.join();
  }
  const seconds = Math.floor(batch.deadline / 1000);
  const nanos = (batch.deadline - seconds * 1000) * 1_000_000;
  w.tag(DELIVERIES_DEADLINE, WireType.LengthDelimited).fork();
  w.tag(1, WireType.Varint).int64(seconds);
  if (nanos !== 0) w.tag(2, WireType.Varint).int32(nanos);
  w.join();
}
