import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { PublishStreamRequestSchema } from "../src/gen/sluice/v1/broker_pb.js";
import { PublishMessageSchema } from "../src/gen/sluice/v1/message_pb.js";
import { encodePublishStreamRequest } from "../src/publish-request-encoder.js";

const enc = new TextEncoder();

function message(fields: Parameters<typeof create<typeof PublishMessageSchema>>[1]) {
  return create(PublishMessageSchema, fields);
}

/** Encodes by hand and checks that protobuf-es decodes the same request, byte for byte where protobuf-es agrees. */
function roundTrip(requestId: bigint, topic: string, messages: ReturnType<typeof message>[]): void {
  const bytes = encodePublishStreamRequest(requestId, topic, messages);
  const expected = create(PublishStreamRequestSchema, { requestId, topic, messages });
  // A plain Uint8Array view, so that bytes fields decode as Uint8Array (as the client's deserializer does).
  expect(fromBinary(PublishStreamRequestSchema, new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength))).toEqual(expected);
  expect(Buffer.from(bytes)).toEqual(Buffer.from(toBinary(PublishStreamRequestSchema, expected)));
}

describe("the hand-written PublishStreamRequest encoder", () => {
  it("matches protobuf-es for plain messages, ids and payloads of every size class", () => {
    const sizes = [0, 1, 127, 128, 16_383, 16_384, 20_000];
    roundTrip(
      1n,
      "orders",
      sizes.map((n, i) => message({ payload: new Uint8Array(n).fill(i + 1), messageId: `id-${i}` })),
    );
  });

  it("matches protobuf-es for keys, headers, explicit partitions (0 included) and non-ASCII text", () => {
    roundTrip(2n ** 64n - 1n, "t.é-🚀", [
      message({ key: "k", payload: enc.encode("a"), partition: 0 }),
      message({ key: "ключ", payload: enc.encode("b"), headers: { a: "1", "ü": "ß", empty: "" }, partition: 4_294_967_295 }),
      message({ payload: enc.encode("c"), headers: { "": "v" }, messageId: "ünï-🚀" }),
      message({}),
    ]);
  });

  it("matches protobuf-es for ASCII and non-ASCII strings of every length up to 70", () => {
    const messages = [];
    for (let n = 0; n <= 70; n++) {
      const ascii = "a1-Z\u007f~".repeat(12).slice(0, n);
      for (const s of [ascii, ascii.slice(0, -1) + "é", ascii.slice(0, -1) + "\u0080", ascii.slice(0, -1) + "😀"]) {
        messages.push(message({ key: s, payload: enc.encode("p"), headers: { [s]: s }, messageId: s }));
      }
    }
    roundTrip(5n, "t", messages);
  });

  it("matches protobuf-es for request id 0, an empty topic and no messages", () => {
    roundTrip(0n, "", []);
    roundTrip(300n, "t", []);
  });
});
