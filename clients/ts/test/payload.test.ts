import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { Code } from "../src/code.js";
import { PublishMessageSchema } from "../src/gen/sluice/v1/message_pb.js";
import { estimateBytes, toPublishMessage } from "../src/outgoing-message.js";
import { decodeJson, decodeText, encodePayload, json } from "../src/payload.js";
import { SluiceError } from "../src/sluice-error.js";

describe("payload encoding", () => {
  it("sends bytes as they are, without a copy", () => {
    const bytes = new Uint8Array([1, 2, 3]);
    expect(encodePayload(bytes)).toBe(bytes);
    const buf = Buffer.from("abc");
    expect(encodePayload(buf)).toBe(buf);
  });

  it("encodes strings as UTF-8", () => {
    expect(Array.from(encodePayload("é€"))).toEqual([0xc3, 0xa9, 0xe2, 0x82, 0xac]);
    expect(decodeText(encodePayload("héllo ✓"))).toBe("héllo ✓");
  });

  it("encodes JSON only through the explicit json() encoder", () => {
    expect(decodeText(json({ a: [1, "x", null] }))).toBe('{"a":[1,"x",null]}');
    // A plain string stays the string, never JSON-quoted.
    expect(decodeText(encodePayload("x"))).toBe("x");
    expect(decodeJson(json({ n: 1 }))).toEqual({ n: 1 });
  });

  it("rejects what cannot be a payload with INVALID_ARGUMENT", () => {
    expect(() => encodePayload(42 as never)).toThrow(SluiceError);
    expect(() => json(undefined as never)).toThrowError(expect.objectContaining({ code: Code.InvalidArgument }));
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => json(cyclic as never)).toThrowError(expect.objectContaining({ code: Code.InvalidArgument }));
    expect(() => decodeJson(encodePayload("{nope"))).toThrowError(expect.objectContaining({ code: Code.InvalidArgument }));
  });
});

describe("outgoing messages", () => {
  it("build wire messages that protobuf-es encodes and decodes unchanged", () => {
    const wire = toPublishMessage({ payload: "hi", key: "k", headers: { h: "v" }, partition: 2, messageId: "m-1" });
    const back = fromBinary(PublishMessageSchema, toBinary(PublishMessageSchema, wire));
    expect(back).toEqual(wire);
    const bare = fromBinary(PublishMessageSchema, toBinary(PublishMessageSchema, toPublishMessage(new Uint8Array([9]))));
    expect(bare.partition).toBeUndefined();
    expect(bare.key).toBe("");
    expect(Array.from(bare.payload)).toEqual([9]);
  });

  it("fill in the given message id only when the message has none", () => {
    expect(toPublishMessage("x", "auto").messageId).toBe("auto");
    expect(toPublishMessage({ payload: "x", messageId: "mine" }, "auto").messageId).toBe("mine");
  });

  it("refuse a partition that is not a uint32", () => {
    for (const partition of [-1, 1.5, 2 ** 32]) {
      expect(() => toPublishMessage({ payload: "x", partition })).toThrowError(expect.objectContaining({ code: Code.InvalidArgument }));
    }
  });

  it("estimate at least their encoded size", () => {
    const wire = toPublishMessage({ payload: new Uint8Array(100), key: "kéy", headers: { a: "b", c: "d" }, messageId: "abc-123" });
    expect(estimateBytes(wire)).toBeGreaterThanOrEqual(toBinary(PublishMessageSchema, wire).byteLength);
  });
});
