import { fromBinary } from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { describe, expect, it } from "vitest";
import { FetchResponseSchema, SubscribeResponseSchema } from "../../gen/sluice/v1/broker_pb.js";
import type { DeliveryBatch } from "../../src/broker/subscription.js";
import { encodeDeliveries, encodeFetchResponse } from "../../src/server/delivery-encoder.js";
import { protobufRecordCodec } from "../../src/server/record-codec.js";

/** The encoding as protobuf-es's BinaryWriter writes it: the reference. */
function writeReference(w: BinaryWriter, topic: string, batch: DeliveryBatch): void {
  for (const d of batch.deliveries) {
    w.tag(1, WireType.LengthDelimited).fork();
    w.tag(1, WireType.LengthDelimited).fork();
    w.tag(1, WireType.LengthDelimited).string(topic);
    if (d.partition !== 0) w.tag(2, WireType.Varint).uint32(d.partition);
    if (d.offset !== 0n) w.tag(3, WireType.Varint).uint64(d.offset);
    w.raw(d.value);
    w.join();
    w.tag(2, WireType.Varint).uint32(d.attempt);
    w.join();
  }
  const seconds = Math.floor(batch.deadline / 1000);
  const nanos = (batch.deadline - seconds * 1000) * 1_000_000;
  w.tag(2, WireType.LengthDelimited).fork();
  w.tag(1, WireType.Varint).int64(seconds);
  if (nanos !== 0) w.tag(2, WireType.Varint).int32(nanos);
  w.join();
}

function reference(topic: string, batch: DeliveryBatch): Uint8Array {
  const w = new BinaryWriter();
  w.tag(2, WireType.LengthDelimited).fork();
  writeReference(w, topic, batch);
  w.join();
  return w.finish();
}

function fetchReference(topic: string, batch: DeliveryBatch): Uint8Array {
  const w = new BinaryWriter();
  writeReference(w, topic, batch);
  return w.finish();
}

function randomBatch(seed: number): DeliveryBatch {
  let s = seed;
  const next = () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
  const offsets = [0n, 1n, 127n, 128n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 64n - 1n];
  const sizes = [0, 5, 100, 200, 20_000];
  const n = Math.floor(next() * 30);
  const deliveries = Array.from({ length: n }, () => {
    const payload = new Uint8Array(sizes[Math.floor(next() * sizes.length)]!).fill(7);
    return {
      partition: [0, 1, 300, 2 ** 32 - 1][Math.floor(next() * 4)]!,
      offset: next() < 0.5 ? offsets[Math.floor(next() * offsets.length)]! : BigInt(Math.floor(next() * 1e12)),
      attempt: [1, 2, 200][Math.floor(next() * 3)]!,
      value: protobufRecordCodec.encode({ key: next() < 0.5 ? "k" : "", payload, headers: {}, messageId: "m" }, 1_764_201_600_123),
    };
  });
  const deadlines = [0, 999, 1000, 1_764_201_630_123, 1_764_201_630_000, -1500];
  return { deliveries, deadline: deadlines[Math.floor(next() * deadlines.length)]! };
}

const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

describe("the delivery encoder", () => {
  it("writes SubscribeResponse deliveries exactly as BinaryWriter does", () => {
    const topics = ["t", "orders", "ß-中-😀", "x".repeat(200)];
    for (let i = 0; i < 400; i++) {
      const batch = randomBatch(i + 1);
      const topic = topics[i % topics.length]!;
      expect(same(encodeDeliveries(topic, batch), reference(topic, batch)), `case ${i}`).toBe(true);
    }
  });

  it("writes FetchResponse exactly as BinaryWriter does", () => {
    for (let i = 0; i < 200; i++) {
      const batch = randomBatch(500 + i);
      expect(same(encodeFetchResponse("orders", batch), fetchReference("orders", batch)), `case ${i}`).toBe(true);
    }
  });

  it("produces messages protobuf-es parses back to the same deliveries", () => {
    const batch = randomBatch(9);
    const parsed = fromBinary(SubscribeResponseSchema, encodeDeliveries("orders", batch));
    expect(parsed.response.case).toBe("deliveries");
    const ds = parsed.response.case === "deliveries" ? parsed.response.value.deliveries : [];
    expect(ds.map((d) => [d.message?.partition, d.message?.offset, d.attempt, d.message?.topic])).toEqual(
      batch.deliveries.map((d) => [d.partition, d.offset, d.attempt, "orders"]),
    );
    expect(fromBinary(FetchResponseSchema, encodeFetchResponse("orders", batch)).deliveries.length).toBe(batch.deliveries.length);
  });
});
