/**
 * A hand-written decoder of `PublishStreamRequest`, the publish hot path:
 * protobuf-es's generic `fromBinary` costs several times more CPU per
 * message. It handles exactly the canonical encoding (known fields with
 * their wire types, valid UTF-8, in-bounds lengths) and returns `undefined`
 * for anything else (unknown fields, damage), so that the caller falls back
 * to `fromBinary`, which decides and words the error. Payloads are views of
 * the received bytes, as with `fromBinary`; messages without headers share
 * one frozen empty object.
 */

import type { PublishStreamRequest } from "../../gen/sluice/v1/broker_pb.js";
import type { PublishMessage } from "../../gen/sluice/v1/message_pb.js";
import { UNUSUAL, WireReader } from "./wire-reader.js";

// Wire types.
const VARINT = 0;
const LEN = 2;

/** Decodes one map entry into `headers`; false on anything non-canonical. */
function entry(r: WireReader, headers: Record<string, string>): boolean {
  const end = r.bodyEnd();
  if (end === UNUSUAL) return false;
  const outer = r.end;
  r.end = end;
  let key: string | undefined = "";
  let value: string | undefined = "";
  while (r.pos < end && key !== undefined && value !== undefined) {
    const tag = r.varint();
    if (tag === (1 << 3) + LEN) key = r.string();
    else if (tag === (2 << 3) + LEN) value = r.string();
    else key = undefined;
  }
  r.end = outer;
  if (key === undefined || value === undefined) return false;
  headers[key] = value;
  return true;
}

/** Decodes one message, or undefined on anything non-canonical. */
function message(r: WireReader): PublishMessage | undefined {
  const end = r.bodyEnd();
  if (end === UNUSUAL) return undefined;
  const outer = r.end;
  r.end = end;
  const m = fields(r);
  r.end = outer;
  return m;
}

/** The fields of a message whose body spans the reader up to its end. */
function fields(r: WireReader): PublishMessage | undefined {
  let key = "";
  let payload: Uint8Array = EMPTY;
  let headers: Record<string, string> | undefined;
  let partition: number | undefined;
  let messageId = "";
  while (r.pos < r.end) {
    switch (r.varint()) {
      case (1 << 3) + LEN: {
        const s = r.string();
        if (s === undefined) return undefined;
        key = s;
        break;
      }
      case (2 << 3) + LEN: {
        const end = r.bodyEnd();
        if (end === UNUSUAL) return undefined;
        payload = r.buf.subarray(r.pos, end);
        r.pos = end;
        break;
      }
      case (3 << 3) + LEN:
        if (!entry(r, (headers ??= {}))) return undefined;
        break;
      case (4 << 3) + VARINT: {
        const v = r.varint();
        if (v === UNUSUAL || v > 0xffff_ffff) return undefined;
        partition = v;
        break;
      }
      case (5 << 3) + LEN: {
        const s = r.string();
        if (s === undefined) return undefined;
        messageId = s;
        break;
      }
      default:
        return undefined;
    }
  }
  return { $typeName: "sluice.v1.PublishMessage", key, payload, headers: headers ?? NO_HEADERS, partition, messageId };
}

const EMPTY = new Uint8Array(0);
/**
 * The headers of every message without any: most messages have none, and
 * one object per message showed in the garbage. Frozen, since it is shared.
 */
const NO_HEADERS: Record<string, string> = Object.freeze({});

/** The request `bytes` encode, or `undefined` when they are not in canonical form (decode them with `fromBinary`). */
export function decodePublishStreamRequest(bytes: Uint8Array): PublishStreamRequest | undefined {
  const r = new WireReader(bytes, 0, bytes.byteLength);
  let requestId = 0n;
  let topic = "";
  const messages: PublishMessage[] = [];
  while (r.pos < r.end) {
    const tag = r.varint();
    if (tag === (1 << 3) + VARINT) {
      const v = r.varint();
      // Ids of 2^53 and above take the general path.
      if (v === UNUSUAL) return undefined;
      requestId = BigInt(v);
    } else if (tag === (2 << 3) + LEN) {
      const s = r.string();
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
