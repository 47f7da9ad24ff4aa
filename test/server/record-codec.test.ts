import { fromBinary } from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { describe, expect, it } from "vitest";
import { MessageSchema } from "../../gen/sluice/v1/message_pb.js";
import type { RecordInput } from "../../src/broker/record-codec.js";
import { protobufRecordCodec as codec } from "../../src/server/record-codec.js";

/** The stored-record encoding as protobuf-es's BinaryWriter writes it: the reference. */
function reference(input: RecordInput, publishTimeMs: number): Uint8Array {
  const w = new BinaryWriter();
  if (input.key !== "") w.tag(4, WireType.LengthDelimited).string(input.key);
  if (input.payload.byteLength > 0) w.tag(5, WireType.LengthDelimited).bytes(input.payload);
  for (const k in input.headers) {
    w.tag(6, WireType.LengthDelimited).fork().tag(1, WireType.LengthDelimited).string(k).tag(2, WireType.LengthDelimited).string(input.headers[k]!).join();
  }
  const seconds = Math.floor(publishTimeMs / 1000);
  const nanos = (publishTimeMs - seconds * 1000) * 1_000_000;
  w.tag(7, WireType.LengthDelimited).fork();
  if (seconds !== 0) w.tag(1, WireType.Varint).int64(seconds);
  if (nanos !== 0) w.tag(2, WireType.Varint).int32(nanos);
  w.join();
  if (input.messageId !== "") w.tag(8, WireType.LengthDelimited).string(input.messageId);
  return w.finish();
}

/** A small deterministic PRNG, so a failure can be reproduced from its seed. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ALPHABET = ["a", "Z", "0", "-", "é", "ß", "中", "😀", " ", "\u0000"];

function randomString(r: () => number, max: number): string {
  const n = Math.floor(r() * max);
  let s = "";
  for (let i = 0; i < n; i++) s += ALPHABET[Math.floor(r() * ALPHABET.length)];
  return s;
}

function randomInput(r: () => number): RecordInput {
  const sizes = [0, 1, 100, 127, 128, 1024, 16_383, 16_384, 70_000];
  const payload = new Uint8Array(sizes[Math.floor(r() * sizes.length)]!);
  for (let i = 0; i < payload.length; i += 97) payload[i] = Math.floor(r() * 256);
  const headers: Record<string, string> = {};
  const nh = Math.floor(r() * 4);
  for (let i = 0; i < nh; i++) headers[randomString(r, 8)] = randomString(r, r() < 0.1 ? 200 : 12);
  return { key: randomString(r, r() < 0.1 ? 100 : 10), payload, headers, messageId: randomString(r, 30) };
}

describe("the stored-record codec", () => {
  it("encodes byte for byte what protobuf-es's BinaryWriter writes, for random messages and times", () => {
    const r = rng(42);
    const times = [0, 1, 999, 1000, 1001, 1_764_201_600_000, 1_764_201_600_123, 253_402_300_799_999];
    for (let i = 0; i < 2000; i++) {
      const input = randomInput(r);
      const t = i < times.length ? times[i]! : Math.floor(r() * 4_000_000_000_000);
      expect(Buffer.from(codec.encode(input, t)).equals(Buffer.from(reference(input, t))), `case ${i}, time ${t}`).toBe(true);
    }
  });

  it("encodes ASCII and non-ASCII strings of every length up to 70 like BinaryWriter", () => {
    const payload = new Uint8Array([1]);
    for (let n = 0; n <= 70; n++) {
      const ascii = "a1-Z\u007f~".repeat(12).slice(0, n);
      for (const s of [ascii, ascii.slice(0, -1) + "é", ascii.slice(0, -1) + "\u0080", ascii.slice(0, -1) + "😀"]) {
        const input: RecordInput = { key: s, payload, headers: { [s]: s }, messageId: s };
        expect(Buffer.from(codec.encode(input, 1_764_201_600_123)).equals(Buffer.from(reference(input, 1_764_201_600_123))), `${n}: ${s}`).toBe(true);
      }
    }
  });

  it("sizes a message as the UTF-8 bytes of its key, payload, headers and id", () => {
    const r = rng(11);
    for (let i = 0; i < 500; i++) {
      const input = randomInput(r);
      let expected = input.payload.byteLength + Buffer.byteLength(input.key) + Buffer.byteLength(input.messageId);
      for (const k in input.headers) expected += Buffer.byteLength(k) + Buffer.byteLength(input.headers[k]!);
      expect(codec.size(input), `case ${i}`).toBe(expected);
    }
    expect(codec.size({ key: "a".repeat(70), payload: new Uint8Array(3), headers: { "é": "😀" }, messageId: "\u0080" })).toBe(70 + 3 + 2 + 4 + 2);
  });

  it("encodes times before 1970 like BinaryWriter too", () => {
    const input: RecordInput = { key: "k", payload: new Uint8Array([1, 2]), headers: {}, messageId: "" };
    for (const t of [-1, -1000, -1_500]) {
      expect(Buffer.from(codec.encode(input, t)).equals(Buffer.from(reference(input, t)))).toBe(true);
    }
  });

  it("decodes what it encodes, and the bytes parse as a sluice.v1.Message", () => {
    const r = rng(7);
    for (let i = 0; i < 300; i++) {
      const input = randomInput(r);
      const value = codec.encode(input, 1_764_201_600_123);
      const back = codec.decode(value);
      expect(back.key).toBe(input.key);
      expect(Buffer.from(back.payload).equals(Buffer.from(input.payload))).toBe(true);
      expect(back.headers).toEqual(input.headers);
      expect(back.messageId).toBe(input.messageId);
      expect(codec.key(value)).toBe(input.key);
      expect(codec.publishTime(value)).toBe(1_764_201_600_123);
      const m = fromBinary(MessageSchema, value);
      expect(m.key).toBe(input.key);
      expect(m.headers).toEqual(input.headers);
    }
  });
});
