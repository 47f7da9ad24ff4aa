import { BinaryReader, BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import type { RecordCodec, RecordInput } from "../broker/record-codec.js";
import { varintLength, writeVarint } from "./varint.js";

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
    // Hand-written rather than through BinaryWriter: this runs once per
    // published message, and the writer's chunk growth and copy on finish
    // were a third of the broker's CPU on the publish path. The bytes are
    // identical to what BinaryWriter writes (test/server/record-codec.test.ts).
    if (!Number.isSafeInteger(publishTimeMs) || publishTimeMs < 0) return encodeWithWriter(input, publishTimeMs);
    const key = input.key;
    const payload = input.payload;
    const messageId = input.messageId;
    const keyLen = key === "" ? 0 : utf8Length(key);
    const idLen = messageId === "" ? 0 : utf8Length(messageId);
    const seconds = Math.floor(publishTimeMs / 1000);
    const nanos = (publishTimeMs - seconds * 1000) * 1_000_000;
    const timeLen = (seconds !== 0 ? 1 + varintLength(seconds) : 0) + (nanos !== 0 ? 1 + varintLength(nanos) : 0);
    let size = 1 + varintLength(timeLen) + timeLen;
    if (keyLen > 0) size += 1 + varintLength(keyLen) + keyLen;
    if (payload.byteLength > 0) size += 1 + varintLength(payload.byteLength) + payload.byteLength;
    if (idLen > 0) size += 1 + varintLength(idLen) + idLen;
    let headers: Array<[number, number, string, string]> | undefined;
    for (const k in input.headers) {
      const v = input.headers[k]!;
      const kl = utf8Length(k);
      const vl = utf8Length(v);
      const entry = 2 + varintLength(kl) + kl + varintLength(vl) + vl;
      (headers ??= []).push([kl, vl, k, v]);
      size += 1 + varintLength(entry) + entry;
    }
    const out = allocRecord(size);
    let p = 0;
    if (keyLen > 0) {
      out[p++] = (KEY << 3) | WireType.LengthDelimited;
      p = writeVarint(out, p, keyLen);
      p = writeString(out, p, key, keyLen);
    }
    if (payload.byteLength > 0) {
      out[p++] = (PAYLOAD << 3) | WireType.LengthDelimited;
      p = writeVarint(out, p, payload.byteLength);
      out.set(payload, p);
      p += payload.byteLength;
    }
    if (headers !== undefined) {
      for (const [kl, vl, k, v] of headers) {
        out[p++] = (HEADERS << 3) | WireType.LengthDelimited;
        p = writeVarint(out, p, 2 + varintLength(kl) + kl + varintLength(vl) + vl);
        out[p++] = (1 << 3) | WireType.LengthDelimited;
        p = writeVarint(out, p, kl);
        p = writeString(out, p, k, kl);
        out[p++] = (2 << 3) | WireType.LengthDelimited;
        p = writeVarint(out, p, vl);
        p = writeString(out, p, v, vl);
      }
    }
    out[p++] = (PUBLISH_TIME << 3) | WireType.LengthDelimited;
    p = writeVarint(out, p, timeLen);
    if (seconds !== 0) {
      out[p++] = (1 << 3) | WireType.Varint;
      p = writeVarint(out, p, seconds);
    }
    if (nanos !== 0) {
      out[p++] = (2 << 3) | WireType.Varint;
      p = writeVarint(out, p, nanos);
    }
    if (idLen > 0) {
      out[p++] = (MESSAGE_ID << 3) | WireType.LengthDelimited;
      p = writeVarint(out, p, idLen);
      p = writeString(out, p, messageId, idLen);
    }
    return out;
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
    let n = input.payload.byteLength + utf8Length(input.key) + utf8Length(input.messageId);
    for (const k in input.headers) n += utf8Length(k) + utf8Length(input.headers[k]!);
    return n;
  },
};

/**
 * Records are carved from 64 KiB slabs: one allocation per few hundred small
 * records instead of one each (Node's own pool is 8 KiB, and refilling it
 * showed in profiles). A slab lives while any record cut from it does (the
 * tail cache holds the newest ones); nothing ever writes to a record again.
 */
const SLAB_BYTES = 64 * 1024;
let slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
let slabUsed = 0;

function allocRecord(size: number): Buffer {
  if (size > SLAB_BYTES >>> 3) return Buffer.allocUnsafeSlow(size);
  if (slabUsed + size > SLAB_BYTES) {
    slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
    slabUsed = 0;
  }
  const out = slab.subarray(slabUsed, slabUsed + size);
  // Keep records 8-byte aligned, as Node's pool does.
  slabUsed = (slabUsed + size + 7) & ~7;
  return out;
}

/** UTF-8 length of `s`; the ASCII case without calling into C++. */
function utf8Length(s: string): number {
  const n = s.length;
  if (n > 64) return Buffer.byteLength(s, "utf8");
  for (let i = 0; i < n; i++) if (s.charCodeAt(i) > 0x7f) return Buffer.byteLength(s, "utf8");
  return n;
}

/**
 * Writes `s`, whose UTF-8 length is `length` ({@link utf8Length}), at `p`
 * and returns the position after it. Short ASCII strings (a length equal to
 * the string's means every code unit is ASCII) are copied here: a call into
 * C++ per message id cost more than the copy.
 */
function writeString(out: Buffer, p: number, s: string, length: number): number {
  if (length !== s.length || length > 64) return p + out.write(s, p, length, "utf8");
  for (let i = 0; i < length; i++) out[p + i] = s.charCodeAt(i);
  return p + length;
}

/** The general encoder, for publish times before 1970 (negative int64 varints). */
function encodeWithWriter(input: RecordInput, publishTimeMs: number): Uint8Array {
  const w = new BinaryWriter();
  if (input.key !== "") w.tag(KEY, WireType.LengthDelimited).string(input.key);
  if (input.payload.byteLength > 0) w.tag(PAYLOAD, WireType.LengthDelimited).bytes(input.payload);
  for (const k in input.headers) {
    w.tag(HEADERS, WireType.LengthDelimited).fork().tag(1, WireType.LengthDelimited).string(k).tag(2, WireType.LengthDelimited).string(input.headers[k]!).join();
  }
  const seconds = Math.floor(publishTimeMs / 1000);
  const nanos = (publishTimeMs - seconds * 1000) * 1_000_000;
  w.tag(PUBLISH_TIME, WireType.LengthDelimited).fork();
  if (seconds !== 0) w.tag(1, WireType.Varint).int64(seconds);
  if (nanos !== 0) w.tag(2, WireType.Varint).int32(nanos);
  w.join();
  if (input.messageId !== "") w.tag(MESSAGE_ID, WireType.LengthDelimited).string(input.messageId);
  return w.finish();
}
