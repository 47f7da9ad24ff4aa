import type { Delivery, DeliveryBatch } from "../broker/subscription.js";
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
  const plan = new Plan(topic, batch);
  const inner = plan.length;
  const out = Buffer.allocUnsafe(1 + varintLength(inner) + inner);
  out[0] = (RESPONSE_DELIVERIES << 3) | LENGTH_DELIMITED;
  plan.write(out, writeVarint(out, 1, inner));
  return out;
}

/**
 * Encodes a `FetchResponse`, whose fields (deliveries = 1, deadline = 2) are
 * laid out like `SubscribeResponse.Deliveries`.
 */
export function encodeFetchResponse(topic: string, batch: DeliveryBatch): Uint8Array {
  const plan = new Plan(topic, batch);
  const out = Buffer.allocUnsafe(plan.length);
  plan.write(out, 0);
  return out;
}

/**
 * The sizes of one batch's encoding, computed once for both passes: per
 * delivery the length of its `Message` and its offset as a number (the
 * bigint only where a double cannot hold it).
 */
class Plan {
  readonly length: number;
  readonly #deliveries: readonly Delivery[];
  readonly #deadline: number;
  /** Per delivery: the length of its Message. */
  readonly #messageLengths: Float64Array;
  /** Per delivery: its offset, or -1 when past 2^53 - 1 (then the bigint is written). */
  readonly #offsets: Float64Array;
  /** The bytes every Message starts with: its topic field. */
  readonly #topicField: Uint8Array;

  constructor(topic: string, batch: DeliveryBatch) {
    const topicBytes = Buffer.from(topic, "utf8");
    const topicField = Buffer.allocUnsafe(1 + varintLength(topicBytes.byteLength) + topicBytes.byteLength);
    topicField[0] = (MESSAGE_TOPIC << 3) | LENGTH_DELIMITED;
    topicField.set(topicBytes, writeVarint(topicField, 1, topicBytes.byteLength));
    this.#topicField = topicField;
    this.#deliveries = batch.deliveries;
    this.#deadline = batch.deadline;
    const n = batch.deliveries.length;
    this.#messageLengths = new Float64Array(n);
    this.#offsets = new Float64Array(n);
    let total = 0;
    for (let i = 0; i < n; i++) {
      const d = batch.deliveries[i]!;
      const big = d.offset;
      // Rounding is monotonic: a bigint past 2^53 - 1 converts to at least 2^53.
      let offset = Number(big);
      if (offset > Number.MAX_SAFE_INTEGER) offset = -1;
      this.#offsets[i] = offset;
      const m =
        topicField.byteLength +
        (d.partition !== 0 ? 1 + uintLength(d.partition) : 0) +
        (offset === 0 ? 0 : 1 + (offset > 0 ? uintLength(offset) : varintLength(big))) +
        d.value.byteLength;
      this.#messageLengths[i] = m;
      const delivery = 1 + uintLength(m) + m + 1 + uintLength(d.attempt);
      total += 1 + uintLength(delivery) + delivery;
    }
    const t = deadlineParts(batch.deadline).length;
    this.length = total + 1 + uintLength(t) + t;
  }

  /** Writes the deliveries and the deadline at `p`; returns the position after them. */
  write(out: Buffer, p: number): number {
    const topicField = this.#topicField;
    const deliveries = this.#deliveries;
    for (let i = 0; i < deliveries.length; i++) {
      const d = deliveries[i]!;
      const m = this.#messageLengths[i]!;
      const offset = this.#offsets[i]!;
      out[p++] = (DELIVERIES_DELIVERY << 3) | LENGTH_DELIMITED;
      p = writeUint(out, p, 1 + uintLength(m) + m + 1 + uintLength(d.attempt));
      out[p++] = (DELIVERY_MESSAGE << 3) | LENGTH_DELIMITED;
      p = writeUint(out, p, m);
      out.set(topicField, p);
      p += topicField.byteLength;
      if (d.partition !== 0) {
        out[p++] = (MESSAGE_PARTITION << 3) | VARINT;
        p = writeUint(out, p, d.partition);
      }
      if (offset !== 0) {
        out[p++] = (MESSAGE_OFFSET << 3) | VARINT;
        p = offset > 0 ? writeUint(out, p, offset) : writeVarint(out, p, d.offset);
      }
      out.set(d.value, p);
      p += d.value.byteLength;
      out[p++] = (DELIVERY_ATTEMPT << 3) | VARINT;
      p = writeUint(out, p, d.attempt);
    }
    const { seconds, nanos, length } = deadlineParts(this.#deadline);
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
}

/** Bytes of the varint of a non-negative integer number (up to 2^53). */
function uintLength(v: number): number {
  if (v < 0x80) return 1;
  if (v < 0x4000) return 2;
  if (v < 0x20_0000) return 3;
  if (v < 0x1000_0000) return 4;
  return varintLength(v);
}

/** Writes the varint of a non-negative integer number (up to 2^53); returns the position after it. */
function writeUint(out: Buffer, p: number, v: number): number {
  if (v < 0x80) {
    out[p] = v;
    return p + 1;
  }
  if (v < 0x4000) {
    out[p] = (v & 0x7f) | 0x80;
    out[p + 1] = v >>> 7;
    return p + 2;
  }
  if (v < 0x20_0000) {
    out[p] = (v & 0x7f) | 0x80;
    out[p + 1] = ((v >>> 7) & 0x7f) | 0x80;
    out[p + 2] = v >>> 14;
    return p + 3;
  }
  if (v < 0x1000_0000) {
    out[p] = (v & 0x7f) | 0x80;
    out[p + 1] = ((v >>> 7) & 0x7f) | 0x80;
    out[p + 2] = ((v >>> 14) & 0x7f) | 0x80;
    out[p + 3] = v >>> 21;
    return p + 4;
  }
  return writeVarint(out, p, v);
}

function deadlineParts(deadline: number): { seconds: number; nanos: number; length: number } {
  const seconds = Math.floor(deadline / 1000);
  const nanos = (deadline - seconds * 1000) * 1_000_000;
  return { seconds, nanos, length: 1 + int64Length(seconds) + (nanos !== 0 ? 1 + int64Length(nanos) : 0) };
}

function int64Length(v: number): number {
  return varintLength(int64Varint(v));
}
