import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { PublishStreamResponseSchema, RequestErrorSchema } from "../src/gen/sluice/v1/broker_pb.js";
import { PublishResultSchema } from "../src/gen/sluice/v1/message_pb.js";
import { decodePublishStreamResponse } from "../src/publish-response-decoder.js";

type ResultInit = { partition?: number; offset?: bigint; duplicate?: boolean };

function response(requestId: bigint, results: ResultInit[]): Uint8Array {
  return toBinary(PublishStreamResponseSchema, create(PublishStreamResponseSchema, { requestId, results: results.map((r) => create(PublishResultSchema, r)) }));
}

/** The hand decoder and protobuf-es agree on `bytes`. */
function agrees(bytes: Uint8Array): void {
  expect(decodePublishStreamResponse(bytes)).toEqual(fromBinary(PublishStreamResponseSchema, bytes));
}

describe("the hand-written PublishStreamResponse decoder", () => {
  it("decodes what protobuf-es encodes, exactly as fromBinary does", () => {
    agrees(response(0n, []));
    agrees(response(1n, [{}]));
    agrees(
      response(2n ** 53n - 1n, [
        { partition: 0, offset: 0n },
        { partition: 3, offset: 1n, duplicate: true },
        { partition: 0xffff_ffff, offset: 2n ** 53n - 1n },
        { offset: 127n },
        { offset: 128n, duplicate: false },
      ]),
    );
    const many = Array.from({ length: 1000 }, (_, i) => ({ partition: i % 7, offset: BigInt(i * 1_000_003), duplicate: i % 5 === 0 }));
    agrees(response(42n, many));
  });

  it("keeps the last value of a repeated field, as fromBinary does", () => {
    agrees(Uint8Array.of(0x08, 0x01, 0x08, 0x02, 0x12, 0x04, 0x08, 0x01, 0x08, 0x05));
  });

  it("gives up (for fromBinary to decide) on errors, unknown fields, damage and values it cannot hold", () => {
    const valid = response(7n, [{ partition: 1, offset: 9n }]);
    const withError = toBinary(
      PublishStreamResponseSchema,
      create(PublishStreamResponseSchema, { requestId: 7n, error: create(RequestErrorSchema, { code: 5, message: "no topic" }) }),
    );
    const cases: Record<string, Uint8Array> = {
      "a request error": withError,
      "an unknown field": Buffer.concat([valid, Uint8Array.of(0x50, 0x01)]),
      "an unknown field in a result": Uint8Array.of(0x12, 0x02, 0x20, 0x01),
      "a wrong wire type": Uint8Array.of(0x12, 0x02, 0x0a, 0x00),
      truncated: valid.subarray(0, valid.length - 1),
      "a varint running past its result": Uint8Array.of(0x12, 0x02, 0x08, 0x81, 0x01),
      "a request id of 2^53": response(2n ** 53n, []),
      "an offset of 2^53": response(1n, [{ offset: 2n ** 53n }]),
      "a partition above u32": Uint8Array.of(0x12, 0x06, 0x08, 0x80, 0x80, 0x80, 0x80, 0x10),
      "a duplicate flag of 2": Uint8Array.of(0x12, 0x02, 0x18, 0x02),
      "a length past the end": Uint8Array.of(0x12, 0x7f),
    };
    for (const [name, bytes] of Object.entries(cases)) expect(decodePublishStreamResponse(bytes), name).toBeUndefined();
  });
});
