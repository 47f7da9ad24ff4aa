import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { PublishStreamRequestSchema } from "../../gen/sluice/v1/broker_pb.js";
import { PublishMessageSchema } from "../../gen/sluice/v1/message_pb.js";
import { decodePublishStreamRequest } from "../../src/server/publish-request-decoder.js";

const enc = new TextEncoder();

function request(requestId: bigint, topic: string, messages: Parameters<typeof create<typeof PublishMessageSchema>>[1][]) {
  return create(PublishStreamRequestSchema, { requestId, topic, messages: messages.map((m) => create(PublishMessageSchema, m)) });
}

/** Checks that the hand decoder and protobuf-es agree on `bytes`. */
function agrees(bytes: Uint8Array): void {
  expect(decodePublishStreamRequest(bytes)).toEqual(fromBinary(PublishStreamRequestSchema, bytes));
}

describe("the hand-written PublishStreamRequest decoder", () => {
  it("decodes what protobuf-es encodes, exactly as fromBinary does", () => {
    agrees(toBinary(PublishStreamRequestSchema, request(0n, "", [])));
    agrees(toBinary(PublishStreamRequestSchema, request(2n ** 53n - 1n, "orders", [{}])));
    agrees(
      toBinary(
        PublishStreamRequestSchema,
        request(7n, "t.é-🚀", [
          { payload: new Uint8Array(20_000).fill(3), messageId: "id-1" },
          { key: "ключ", payload: enc.encode("b"), headers: { a: "1", "ü": "ß", "": "", "\uFEFFbom": "x" }, partition: 0 },
          { payload: enc.encode("c"), partition: 4_294_967_295, messageId: "ünï-🚀" },
        ]),
      ),
    );
  });

  it("decodes a Buffer (as grpc-js delivers requests) exactly as fromBinary does", () => {
    const bytes = toBinary(
      PublishStreamRequestSchema,
      request(3n, "orders", [
        { key: "k", payload: enc.encode("a"), messageId: "AbCdEf-1" },
        { payload: enc.encode("b"), headers: { h: "1" }, messageId: "ünï" },
      ]),
    );
    const copy = Buffer.from(bytes);
    expect(decodePublishStreamRequest(copy)).toEqual(fromBinary(PublishStreamRequestSchema, copy));
  });

  it("gives messages without headers one shared, frozen empty object", () => {
    const decoded = decodePublishStreamRequest(toBinary(PublishStreamRequestSchema, request(1n, "t", [{ messageId: "a" }, { messageId: "b" }])));
    const [a, b] = decoded!.messages;
    expect(a!.headers).toEqual({});
    expect(Object.isFrozen(a!.headers)).toBe(true);
    expect(b!.headers).toBe(a!.headers);
  });

  it("keeps the last value of a repeated singular field and of a repeated map key, as fromBinary does", () => {
    const a = toBinary(PublishStreamRequestSchema, request(1n, "first", [{ key: "k1", headers: { h: "1" } }]));
    const b = toBinary(PublishStreamRequestSchema, request(2n, "second", [{ key: "k2", headers: { h: "2" } }]));
    agrees(Buffer.concat([a, b]));
  });

  it("gives up (for fromBinary to decide) on unknown fields, wrong wire types, damage and values it cannot hold", () => {
    const valid = toBinary(PublishStreamRequestSchema, request(1n, "t", [{ payload: enc.encode("x"), messageId: "m" }]));
    const cases: Record<string, Uint8Array> = {
      "an unknown field": Buffer.concat([valid, Uint8Array.of(0x50, 0x01)]),
      "a wrong wire type": Uint8Array.of(0x0a, 0x01, 0x41),
      truncated: valid.subarray(0, valid.length - 1),
      "invalid UTF-8 in the topic": Uint8Array.of(0x12, 0x02, 0xc3, 0x28),
      "invalid UTF-8 in an id": Uint8Array.of(0x1a, 0x04, 0x2a, 0x02, 0xff, 0xfe),
      "a request id of 2^53": toBinary(PublishStreamRequestSchema, request(2n ** 53n, "t", [])),
      "a partition above u32": Uint8Array.of(0x1a, 0x06, 0x20, 0x80, 0x80, 0x80, 0x80, 0x10),
      "a length past the end": Uint8Array.of(0x1a, 0x7f),
    };
    for (const [name, bytes] of Object.entries(cases)) expect(decodePublishStreamRequest(bytes), name).toBeUndefined();
  });
});
