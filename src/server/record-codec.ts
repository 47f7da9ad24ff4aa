import { BinaryReader, BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import type { RecordCodec, RecordInput } from "../broker/record-codec.js";

// Field numbers of sluice.v1.Message (proto/sluice/v1/message.proto).
const KEY = 4;
const PAYLOAD = 5;
const HEADERS = 6;
const PUBLISH_TIME = 7;
const MESSAGE_ID = 8;

/**
 * Stores each record as the wire encoding of `sluice.v1.Message` without its
 * topic, partition and offset; a delivery prepends those three fields and
 * sends the stored bytes as they are (protobuf allows fields in any order).
 */
export const protobufRecordCodec: RecordCodec = {
  encode(input: RecordInput, publishTimeMs: number): Uint8Array {
    const w = new BinaryWriter();
    if (input.key !== "") w.tag(KEY, WireType.LengthDelimited).string(input.key);
    if (input.payload.byteLength > 0) w.tag(PAYLOAD, WireType.LengthDelimited).bytes(input.payload);
    for (const k in input.headers) {
      w.tag(HEADERS, WireType.LengthDelimited)
        .fork()
        .tag(1, WireType.LengthDelimited)
        .string(k)
        .tag(2, WireType.LengthDelimited)
        .string(input.headers[k]!)
        .join();
    }
    const seconds = Math.floor(publishTimeMs / 1000);
    const nanos = (publishTimeMs - seconds * 1000) * 1_000_000;
    w.tag(PUBLISH_TIME, WireType.LengthDelimited).fork();
    if (seconds !== 0) w.tag(1, WireType.Varint).int64(seconds);
    if (nanos !== 0) w.tag(2, WireType.Varint).int32(nanos);
    w.join();
    if (input.messageId !== "") w.tag(MESSAGE_ID, WireType.LengthDelimited).string(input.messageId);
    return w.finish();
  },

  publishTime(value: Uint8Array): number {
    const r = new BinaryReader(value);
    while (r.pos < r.len) {
      const [field, wireType] = r.tag();
      if (field !== PUBLISH_TIME) {
        r.skip(wireType);
        continue;
      }
      const t = new BinaryReader(r.bytes());
      let seconds = 0;
      let nanos = 0;
      while (t.pos < t.len) {
        const [f, wt] = t.tag();
        if (f === 1) seconds = Number(t.int64());
        else if (f === 2) nanos = t.int32();
        else t.skip(wt);
      }
      return seconds * 1000 + Math.floor(nanos / 1_000_000);
    }
    return 0;
  },

  key(value: Uint8Array): string {
    const r = new BinaryReader(value);
    while (r.pos < r.len) {
      const [field, wireType] = r.tag();
      if (field === KEY) return r.string();
      r.skip(wireType);
    }
    return "";
  },

  decode(value: Uint8Array): RecordInput {
    const r = new BinaryReader(value);
    let key = "";
    let payload: Uint8Array = new Uint8Array(0);
    let messageId = "";
    const headers: Record<string, string> = {};
    while (r.pos < r.len) {
      const [field, wireType] = r.tag();
      if (field === KEY) key = r.string();
      else if (field === PAYLOAD) payload = r.bytes();
      else if (field === MESSAGE_ID) messageId = r.string();
      else if (field === HEADERS) {
        const e = new BinaryReader(r.bytes());
        let k = "";
        let v = "";
        while (e.pos < e.len) {
          const [f, wt] = e.tag();
          if (f === 1) k = e.string();
          else if (f === 2) v = e.string();
          else e.skip(wt);
        }
        headers[k] = v;
      } else r.skip(wireType);
    }
    return { key, payload, headers, messageId };
  },

  size(input: RecordInput): number {
    let n = input.payload.byteLength + Buffer.byteLength(input.key) + Buffer.byteLength(input.messageId);
    for (const k in input.headers) n += Buffer.byteLength(k) + Buffer.byteLength(input.headers[k]!);
    return n;
  },
};
