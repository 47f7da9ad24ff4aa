import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { decodeDeliveriesResponse } from "../src/deliveries-decoder.js";
import { DeliverySchema, SubscribeResponseSchema, SubscribeResponse_DeliveriesSchema } from "../src/gen/sluice/v1/broker_pb.js";
import { MessageSchema } from "../src/gen/sluice/v1/message_pb.js";

const enc = new TextEncoder();

type MessageInit = Parameters<typeof create<typeof MessageSchema>>[1];

function response(messages: { message?: MessageInit; attempt: number }[], deadline?: { seconds: bigint; nanos: number }) {
  return create(SubscribeResponseSchema, {
    response: {
      case: "deliveries",
      value: create(SubscribeResponse_DeliveriesSchema, {
        deliveries: messages.map((d) =>
          create(DeliverySchema, { attempt: d.attempt, ...(d.message ? { message: create(MessageSchema, d.message) } : {}) }),
        ),
        ...(deadline ? { deadline } : {}),
      }),
    },
  });
}

/** The hand decoder and protobuf-es agree on `bytes`. */
function agrees(bytes: Uint8Array): void {
  expect(decodeDeliveriesResponse(bytes)).toEqual(fromBinary(SubscribeResponseSchema, bytes));
}

describe("the hand-written deliveries decoder", () => {
  it("decodes what protobuf-es encodes, exactly as fromBinary does", () => {
    agrees(toBinary(SubscribeResponseSchema, response([])));
    agrees(
      toBinary(
        SubscribeResponseSchema,
        response(
          [
            { message: { topic: "orders", partition: 0, offset: 0n, payload: new Uint8Array(0) }, attempt: 1 },
            {
              message: {
                topic: "t.é-🚀",
                partition: 4_294_967_295,
                offset: 2n ** 53n - 1n,
                key: "ключ",
                payload: new Uint8Array(20_000).fill(7),
                headers: { a: "1", "ü": "ß", "": "" },
                publishTime: { seconds: 1_795_750_000n, nanos: 123_000_000 },
                messageId: "id-ünï",
              },
              attempt: 3,
            },
            { attempt: 2 },
            { message: { topic: "x", payload: enc.encode("p"), publishTime: { seconds: 0n, nanos: 0 } }, attempt: 1 },
          ],
          { seconds: 1_795_750_030n, nanos: 5 },
        ),
      ),
    );
  });

  it("decodes each message's own topic when a batch repeats or changes it, from a Buffer as grpc-js hands over", () => {
    const topics = ["ab", "ab", "cd", "ab", "é", "é", "abc", "ab"];
    const bytes = toBinary(
      SubscribeResponseSchema,
      response(topics.map((topic, i) => ({ message: { topic, offset: BigInt(i), messageId: `id-${i}` }, attempt: 1 }))),
    );
    agrees(bytes);
    agrees(Buffer.from(bytes));
    const decoded = decodeDeliveriesResponse(Buffer.from(bytes));
    expect(decoded?.response.case === "deliveries" && decoded.response.value.deliveries.map((d) => d.message?.topic)).toEqual(topics);
  });

  it("gives up (for fromBinary to decide) on other responses, unknown fields, damage and values it cannot hold", () => {
    const valid = toBinary(SubscribeResponseSchema, response([{ message: { topic: "t", offset: 5n, payload: enc.encode("x") }, attempt: 1 }]));
    const subscribed = toBinary(SubscribeResponseSchema, create(SubscribeResponseSchema, { response: { case: "subscribed", value: { consumerId: "c" } } }));
    const cases: Record<string, Uint8Array> = {
      "a subscribed response": subscribed,
      "an unknown field": Buffer.concat([valid, Uint8Array.of(0x50, 0x01)]),
      truncated: valid.subarray(0, valid.length - 1),
      "an offset of 2^53": toBinary(SubscribeResponseSchema, response([{ message: { topic: "t", offset: 2n ** 53n }, attempt: 1 }])),
      "a negative publish time": toBinary(
        SubscribeResponseSchema,
        response([{ message: { topic: "t", publishTime: { seconds: -1n, nanos: 0 } }, attempt: 1 }]),
      ),
      "invalid UTF-8 in the topic": Uint8Array.of(0x12, 0x06, 0x0a, 0x04, 0x0a, 0x02, 0xc3, 0x28),
      empty: new Uint8Array(0),
    };
    for (const [name, bytes] of Object.entries(cases)) expect(decodeDeliveriesResponse(bytes), name).toBeUndefined();
  });
});
