import { create, toBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { BrokerService, SubscribeRequestSchema, type SubscribeRequest } from "../src/gen/sluice/v1/broker_pb.js";
import { grpcServiceDefinition } from "../src/grpc-service.js";
import { encodeSubscribeRequest } from "../src/subscribe-request-encoder.js";

type Positions = { partition: number; offset: bigint }[];

function ack(positions: Positions, ackId = 0n): SubscribeRequest {
  return create(SubscribeRequestSchema, { request: { case: "ack", value: { positions, ackId } } });
}

/** The hand-written bytes, checked equal to what toBinary writes. */
function expectSameAsToBinary(request: SubscribeRequest): void {
  const bytes = encodeSubscribeRequest(request);
  expect(bytes).toBeDefined();
  expect(Buffer.from(bytes!)).toEqual(Buffer.from(toBinary(SubscribeRequestSchema, request)));
}

describe("the hand-written SubscribeRequest ack encoder", () => {
  it("matches protobuf-es for zero, small, 2^53 and 2^64-1 offsets, partitions and ack ids", () => {
    expectSameAsToBinary(ack([]));
    expectSameAsToBinary(ack([{ partition: 0, offset: 0n }]));
    expectSameAsToBinary(
      ack(
        [
          { partition: 0, offset: 1n },
          { partition: 1, offset: 0n },
          { partition: 127, offset: 128n },
          { partition: 128, offset: 2n ** 53n - 1n },
          { partition: 0xffff_ffff, offset: 2n ** 53n },
          { partition: 7, offset: 2n ** 64n - 1n },
        ],
        1n,
      ),
    );
    expectSameAsToBinary(ack([{ partition: 3, offset: 42n }], 2n ** 64n - 1n));
  });

  it("matches protobuf-es when the ack's length needs a multi-byte varint", () => {
    const positions = Array.from({ length: 10_000 }, (_, i) => ({ partition: i % 3, offset: BigInt(i) * 1_000_003n }));
    expectSameAsToBinary(ack(positions, 12_345n));
  });

  it("leaves other requests to toBinary", () => {
    const open = create(SubscribeRequestSchema, { request: { case: "open", value: { topic: "t", group: "g" } } });
    const nack = create(SubscribeRequestSchema, { request: { case: "nack", value: { positions: [{ partition: 0, offset: 1n }] } } });
    const extend = create(SubscribeRequestSchema, { request: { case: "extend", value: { positions: [] } } });
    for (const r of [open, nack, extend, create(SubscribeRequestSchema)]) expect(encodeSubscribeRequest(r)).toBeUndefined();
  });

  it("leaves values protobuf-es refuses, and unknown fields, to toBinary", () => {
    const refused = [
      ack([{ partition: 0, offset: -1n }]),
      ack([{ partition: 0, offset: 2n ** 64n }]),
      ack([{ partition: -1, offset: 0n }]),
      ack([{ partition: 2 ** 32, offset: 0n }]),
      ack([{ partition: 1.5, offset: 0n }]),
      ack([], -1n),
    ];
    for (const r of refused) {
      expect(encodeSubscribeRequest(r)).toBeUndefined();
      expect(() => toBinary(SubscribeRequestSchema, r)).toThrow();
    }
    const withUnknown = ack([{ partition: 1, offset: 1n }]);
    withUnknown.$unknown = [{ no: 99, wireType: 0, data: new Uint8Array([1]) }];
    expect(encodeSubscribeRequest(withUnknown)).toBeUndefined();
  });

  it("is what the client's Subscribe stream serialises with, and nacks still go through toBinary", () => {
    const serialize = grpcServiceDefinition(BrokerService).subscribe.requestSerialize;
    const a = ack([{ partition: 2, offset: 99n }], 5n);
    expect(serialize(a)).toEqual(encodeSubscribeRequest(a));
    const nack = create(SubscribeRequestSchema, { request: { case: "nack", value: { positions: [{ partition: 2, offset: 9n }] } } });
    expect(Buffer.from(serialize(nack))).toEqual(Buffer.from(toBinary(SubscribeRequestSchema, nack)));
  });
});
