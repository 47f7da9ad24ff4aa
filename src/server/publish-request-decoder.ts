/**
 * A hand-written decoder of `PublishStreamRequest`, the publish hot path:
 * protobuf-es's generic `fromBinary` costs several times more CPU per
 * message. It handles exactly the canonical encoding (known fields with
 * their wire types, valid UTF-8, in-bounds lengths) and returns `undefined`
 * for anything else (unknown fields, damage), so that the caller falls back
 * to `fromBinary`, which decides and words the error. Payloads are views of
 * the received bytes, as with `fromBinary`.
 */

import type { PublishStreamRequest } from "../../gen/sluice/v1/broker_pb.js";
import type { PublishMessage } from "../../gen/sluice/v1/message_pb.js";

// Wire types.
const VARINT = 0;
const LEN = 2;

/** A decoding position that gives up (returns -1 / undefined) instead of throwing. */
class Reader {
  pos: number;

  constructor(
    readonly buf: Uint8Array,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }

  /** A varint up to 2^53 (-1 when longer, truncated or larger). */
  varint(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      if (this.pos >= this.end) return -1;
      const b = this.buf[this.pos++]!;
      result += (b & 0x7f) * scale;
      if (b < 0x80) return result <= Number.MAX_SAFE_INTEGER ? result : -1;
      scale *= 128;
    }
    return -1;
  }

  /** The bounds of a length-delimited field's body; undefined when out of bounds. */
  body(): { start: number; end: number } | undefined {
    const len = this.varint();
    if (len < 0 || this.pos + len > this.end) return undefined;
    const start = this.pos;
    this.pos += len;
    return { start, end: this.pos };
  }
}

const strict = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** A string field's text, or undefined for invalid UTF-8 or bad bounds. */
function string(r: Reader): string | undefined {
  const b = r.body();
  if (b === undefined) return undefined;
  const buf = r.buf;
  let ascii = true;
  for (let i = b.start; i < b.end; i++) {
    if (buf[i]! > 0x7f) {
      ascii = false;
      break;
    }
  }
  if (ascii) return Buffer.from(buf.buffer, buf.byteOffset + b.start, b.end - b.start).toString("latin1");
  try {
    return strict.decode(buf.subarray(b.start, b.end));
  } catch {
    return undefined;
  }
}

/** Decodes one map entry into `headers`; false on anything non-canonical. */
function entry(r: Reader, headers: Record<string, string>): boolean {
  const b = r.body();
  if (b === undefined) return false;
  const e = new Reader(r.buf, b.start, b.end);
  let key = "";
  let value = "";
  while (e.pos < e.end) {
    const tag = e.varint();
    if (tag === (1 << 3) + LEN) {
      const s = string(e);
      if (s === undefined) return false;
      key = s;
    } else if (tag === (2 << 3) + LEN) {
      const s = string(e);
      if (s === undefined) return false;
      value = s;
    } else return false;
  }
  headers[key] = value;
  return true;
}

function message(r: Reader): PublishMessage | undefined {
  const b = r.body();
  if (b === undefined) return undefined;
  const m = new Reader(r.buf, b.start, b.end);
  let key = "";
  let payload: Uint8Array = EMPTY;
  const headers: Record<string, string> = {};
  let partition: number | undefined;
  let messageId = "";
  while (m.pos < m.end) {
    const tag = m.varint();
    switch (tag) {
      case (1 << 3) + LEN: {
        const s = string(m);
        if (s === undefined) return undefined;
        key = s;
        break;
      }
      case (2 << 3) + LEN: {
        const p = m.body();
        if (p === undefined) return undefined;
        payload = m.buf.subarray(p.start, p.end);
        break;
      }
      case (3 << 3) + LEN:
        if (!entry(m, headers)) return undefined;
        break;
      case (4 << 3) + VARINT: {
        const v = m.varint();
        if (v < 0 || v > 0xffff_ffff) return undefined;
        partition = v;
        break;
      }
      case (5 << 3) + LEN: {
        const s = string(m);
        if (s === undefined) return undefined;
        messageId = s;
        break;
      }
      default:
        return undefined;
    }
  }
  return { $typeName: "sluice.v1.PublishMessage", key, payload, headers, partition, messageId };
}

const EMPTY = new Uint8Array(0);

/** The request `bytes` encode, or `undefined` when they are not in canonical form (decode them with `fromBinary`). */
export function decodePublishStreamRequest(bytes: Uint8Array): PublishStreamRequest | undefined {
  const r = new Reader(bytes, 0, bytes.byteLength);
  let requestId = 0n;
  let topic = "";
  const messages: PublishMessage[] = [];
  while (r.pos < r.end) {
    const tag = r.varint();
    if (tag === (1 << 3) + VARINT) {
      const v = r.varint();
      // Ids of 2^53 and above take the general path.
      if (v < 0) return undefined;
      requestId = BigInt(v);
    } else if (tag === (2 << 3) + LEN) {
      const s = string(r);
      if (s === undefined) return undefined;
      topic = s;
    } else if (tag === (3 << 3) + LEN) {
      const m = message(r);
      if (m === undefined) return undefined;
      messages.push(m);
    } else return undefined;
  }
  return { $typeName: "sluice.v1.PublishStreamRequest", requestId, topic, messages };
}
