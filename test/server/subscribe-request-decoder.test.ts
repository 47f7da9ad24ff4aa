import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { describe, expect, it } from "vitest";
import { BrokerService, type SubscribeRequest, SubscribeRequestSchema } from "../../gen/sluice/v1/broker_pb.js";
import { grpcServiceDefinition, MalformedRequest } from "../../src/server/grpc-service.js";
import { decodeSubscribeRequest } from "../../src/server/subscribe-request-decoder.js";

/** A small deterministic generator, so a failing case can be replayed. */
function rng(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
}

const pick = <T>(next: () => number, xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!;

function randomRequest(next: () => number): SubscribeRequest {
  const offsets = [0n, 1n, 127n, 128n, 16_383n, 16_384n, 2n ** 31n, 2n ** 32n, 2n ** 49n - 1n];
  const partitions = [0, 1, 127, 128, 300, 2 ** 28 - 1, 2 ** 28, 2 ** 31, 2 ** 32 - 1];
  const positions = Array.from({ length: Math.floor(next() * 40) }, () => ({
    partition: pick(next, partitions),
    offset: next() < 0.5 ? pick(next, offsets) : BigInt(Math.floor(next() * 1e12)),
  }));
  const duration = () =>
    next() < 0.3 ? undefined : { seconds: pick(next, [0n, 1n, 30n, 600n, 2n ** 40n]), nanos: pick(next, [0, 1, 500_000_000, 999_999_999]) };
  switch (Math.floor(next() * 3)) {
    case 0:
      return create(SubscribeRequestSchema, {
        request: { case: "ack", value: { positions, ackId: pick(next, [0n, 1n, 300n, 2n ** 48n]) } },
      });
    case 1:
      return create(SubscribeRequestSchema, { request: { case: "nack", value: { positions, delay: duration() } } });
    default:
      return create(SubscribeRequestSchema, { request: { case: "extend", value: { positions, deadline: duration() } } });
  }
}

/** What the deserializer must yield: protobuf-es's result, or its error as a MalformedRequest. */
function reference(input: Uint8Array): unknown {
  // grpc-js hands the deserializer a Buffer; unknown fields keep slices of it.
  const bytes = Buffer.from(input);
  try {
    return fromBinary(SubscribeRequestSchema, bytes);
  } catch (err) {
    return new MalformedRequest(err instanceof Error ? err.message : String(err));
  }
}

const deserialize = grpcServiceDefinition(BrokerService).subscribe!.requestDeserialize;

/** Writes an Ack request by hand, for encodings toBinary never produces. */
function handWritten(body: (w: BinaryWriter) => void): Uint8Array {
  const w = new BinaryWriter();
  w.tag(2, WireType.LengthDelimited).fork();
  body(w);
  w.join();
  return w.finish();
}

describe("the SubscribeRequest decoder", () => {
  it("decodes acks, nacks and extensions exactly as protobuf-es does", () => {
    const next = rng(7);
    for (let i = 0; i < 2000; i++) {
      const bytes = toBinary(SubscribeRequestSchema, randomRequest(next));
      const fast = decodeSubscribeRequest(bytes);
      expect(fast, `case ${i}`).toBeDefined();
      expect(fast, `case ${i}`).toStrictEqual(fromBinary(SubscribeRequestSchema, bytes));
    }
  });

  it("decodes a 10,000-position ack", () => {
    const positions = Array.from({ length: 10_000 }, (_, i) => ({ partition: i % 4, offset: BigInt(1_000_000 + i) }));
    const bytes = toBinary(SubscribeRequestSchema, create(SubscribeRequestSchema, { request: { case: "ack", value: { positions } } }));
    expect(decodeSubscribeRequest(bytes)).toStrictEqual(fromBinary(SubscribeRequestSchema, bytes));
  });

  it("decodes valid encodings toBinary does not write the same way", () => {
    const cases = [
      // fields in reverse order, a repeated scalar (the last wins), an empty position
      handWritten((w) => {
        w.tag(2, WireType.Varint).uint64(5n);
        w.tag(1, WireType.LengthDelimited).fork().tag(2, WireType.Varint).uint64(9n).tag(1, WireType.Varint).uint32(3).join();
        w.tag(2, WireType.Varint).uint64(6n);
        w.tag(1, WireType.LengthDelimited).fork().join();
        w.tag(1, WireType.LengthDelimited).fork().tag(2, WireType.Varint).uint64(1n).tag(2, WireType.Varint).uint64(2n).join();
      }),
      // zeros written explicitly, and non-minimal varints
      handWritten((w) => {
        w.tag(1, WireType.LengthDelimited).fork().tag(1, WireType.Varint).uint32(0).tag(2, WireType.Varint).uint64(0n).join();
        w.raw(new Uint8Array([0x0a, 0x04, 0x08, 0x81, 0x80, 0x00]));
        w.raw(new Uint8Array([0x10, 0x80, 0x00]));
      }),
      // an empty ack
      new Uint8Array([0x12, 0x00]),
      // an empty nack and an empty extend: no delay, no deadline
      new Uint8Array([0x1a, 0x00]),
      new Uint8Array([0x22, 0x00]),
      // a zero duration written as an empty message
      new Uint8Array([0x1a, 0x02, 0x12, 0x00]),
    ];
    for (const [i, bytes] of cases.entries()) {
      const fast = decodeSubscribeRequest(bytes);
      expect(fast, `case ${i}`).toBeDefined();
      expect(fast, `case ${i}`).toStrictEqual(fromBinary(SubscribeRequestSchema, bytes));
    }
  });

  it("leaves open, empty and unusual requests to protobuf-es", () => {
    const open = toBinary(SubscribeRequestSchema, create(SubscribeRequestSchema, { request: { case: "open", value: { topic: "t", group: "g" } } }));
    const big = (offset: bigint) =>
      toBinary(SubscribeRequestSchema, create(SubscribeRequestSchema, { request: { case: "ack", value: { positions: [{ partition: 1, offset }] } } }));
    const unusual = [
      open,
      new Uint8Array(0),
      big(2n ** 49n), // past what a double holds exactly
      big(2n ** 64n - 1n),
      // a negative delay
      toBinary(SubscribeRequestSchema, create(SubscribeRequestSchema, { request: { case: "nack", value: { delay: { seconds: -1n, nanos: -5 } } } })),
      // an unknown field in a position, in the ack, and at the top
      handWritten((w) => w.tag(1, WireType.LengthDelimited).fork().tag(3, WireType.Varint).uint32(1).join()),
      handWritten((w) => w.tag(9, WireType.Varint).uint32(1)),
      new Uint8Array([0x12, 0x00, 0x48, 0x01]),
      // the same oneof field twice (protobuf-es merges them)
      new Uint8Array([0x12, 0x00, 0x12, 0x00]),
      // a second delay (protobuf-es merges it into the first)
      new Uint8Array([0x1a, 0x04, 0x12, 0x00, 0x12, 0x00]),
      // a partition in a wire type other than varint
      handWritten((w) => w.tag(1, WireType.LengthDelimited).fork().tag(1, WireType.LengthDelimited).bytes(new Uint8Array(1)).join()),
      // a uint32 varint whose fifth byte carries more than 4 bits
      handWritten((w) => w.raw(new Uint8Array([0x0a, 0x06, 0x08, 0xff, 0xff, 0xff, 0xff, 0x1f]))),
    ];
    for (const [i, bytes] of unusual.entries()) {
      expect(decodeSubscribeRequest(bytes), `case ${i}`).toBeUndefined();
      expect(deserialize(Buffer.from(bytes)), `case ${i}`).toStrictEqual(reference(bytes));
    }
  });

  it("gives malformed requests the same result or error as protobuf-es", () => {
    const next = rng(99);
    let malformed = 0;
    for (let i = 0; i < 3000; i++) {
      const valid = toBinary(SubscribeRequestSchema, randomRequest(next));
      const bytes = new Uint8Array(valid);
      // Truncate, flip bytes, or append garbage.
      const how = Math.floor(next() * 3);
      if (how === 0 && bytes.length > 0) {
        const cut = bytes.subarray(0, Math.floor(next() * bytes.length));
        check(cut, i);
        continue;
      }
      const flips = 1 + Math.floor(next() * 3);
      for (let k = 0; k < flips && bytes.length > 0; k++) bytes[Math.floor(next() * bytes.length)] = Math.floor(next() * 256);
      const input = how === 2 ? Buffer.concat([bytes, Buffer.from([Math.floor(next() * 256), Math.floor(next() * 256)])]) : bytes;
      check(input, i);
    }
    function check(bytes: Uint8Array, i: number): void {
      const expected = reference(bytes);
      if (expected instanceof MalformedRequest) malformed++;
      expect(deserialize(Buffer.from(bytes)), `case ${i}: ${Buffer.from(bytes).toString("hex")}`).toStrictEqual(expected);
      const fast = decodeSubscribeRequest(bytes);
      if (fast !== undefined) expect(fast, `case ${i}`).toStrictEqual(expected);
    }
    // The mutations must actually exercise the error path.
    expect(malformed).toBeGreaterThan(300);
  });
});
