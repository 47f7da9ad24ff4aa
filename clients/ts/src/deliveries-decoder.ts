import type { SubscribeResponse } from "./gen/sluice/v1/broker_pb.js";
import type { Message } from "./gen/sluice/v1/message_pb.js";
import { LEN, Reader, VARINT, tag } from "./wire-reader.js";

/**
 * A hand-written decoder of the `SubscribeResponse` that carries deliveries,
 * the consume hot path: protobuf-es's generic `fromBinary` was the largest
 * cost of a consumer after GC. It takes exactly the canonical encoding the
 * broker writes (known fields with their wire types, valid UTF-8, lengths
 * in bounds) and returns `undefined` for anything else, including the other
 * responses, so that the caller decodes with `fromBinary`, which then
 * decides. Payloads are views of the received bytes, as with `fromBinary`.
 * @internal
 */

const EMPTY = new Uint8Array(0);

// Every function below reads one body with the reader it is given (see
// `Reader.enter`): on success the reader is back at the outer body, past the
// one read; on `undefined` the whole response goes to fromBinary, so the
// reader is not restored.

function timestamp(r: Reader): { $typeName: "google.protobuf.Timestamp"; seconds: bigint; nanos: number } | undefined {
  const outer = r.enter();
  if (outer < 0) return undefined;
  let seconds = 0;
  let nanos = 0;
  while (r.pos < r.end) {
    const k = r.varint();
    // Negative values (ten-byte varints) take the general path.
    if (k === tag(1, VARINT)) seconds = r.varint();
    else if (k === tag(2, VARINT)) nanos = r.varint();
    else return undefined;
    if (seconds < 0 || nanos < 0 || nanos > 0x7fff_ffff) return undefined;
  }
  r.leave(outer);
  return { $typeName: "google.protobuf.Timestamp", seconds: BigInt(seconds), nanos };
}

/**
 * The topic of the previous message of the batch: every message of a batch
 * names the same topic, so its bytes are compared instead of decoded again.
 */
interface TopicCache {
  start: number;
  end: number;
  text: string;
}

/** The topic field's text at `m.pos`, reusing `cache` when the bytes match. */
function topic(m: Reader, cache: TopicCache): string | undefined {
  const start = m.pos;
  const end = m.bodyEnd();
  if (end < 0) return undefined;
  const buf = m.buf;
  // Starts after the length varint; the cached span is its text's bytes.
  const from = m.pos;
  if (end - from === cache.end - cache.start) {
    let same = true;
    for (let i = 0; i < end - from; i++) {
      if (buf[from + i] !== buf[cache.start + i]) {
        same = false;
        break;
      }
    }
    if (same) {
      m.pos = end;
      return cache.text;
    }
  }
  m.pos = start;
  const text = m.string();
  if (text === undefined) return undefined;
  cache.start = from;
  cache.end = end;
  cache.text = text;
  return text;
}

function message(m: Reader, cache: TopicCache): Message | undefined {
  const outer = m.enter();
  if (outer < 0) return undefined;
  const out: Message = {
    $typeName: "sluice.v1.Message",
    topic: "",
    partition: 0,
    offset: 0n,
    key: "",
    payload: EMPTY,
    headers: {},
    publishTime: undefined,
    messageId: "",
  };
  while (m.pos < m.end) {
    const k = m.varint();
    if (k === tag(1, LEN)) {
      const s = topic(m, cache);
      if (s === undefined) return undefined;
      out.topic = s;
    } else if (k === tag(4, LEN) || k === tag(8, LEN)) {
      const s = m.string();
      if (s === undefined) return undefined;
      if (k === tag(4, LEN)) out.key = s;
      else out.messageId = s;
    } else if (k === tag(2, VARINT)) {
      const v = m.varint();
      if (v < 0 || v > 0xffff_ffff) return undefined;
      out.partition = v;
    } else if (k === tag(3, VARINT)) {
      const v = m.varint();
      if (v < 0) return undefined;
      out.offset = BigInt(v);
    } else if (k === tag(5, LEN)) {
      const e = m.bodyEnd();
      if (e < 0) return undefined;
      out.payload = m.buf.subarray(m.pos, e);
      m.pos = e;
    } else if (k === tag(6, LEN)) {
      const entryOuter = m.enter();
      if (entryOuter < 0) return undefined;
      let key = "";
      let value = "";
      while (m.pos < m.end) {
        const hk = m.varint();
        if (hk !== tag(1, LEN) && hk !== tag(2, LEN)) return undefined;
        const s = m.string();
        if (s === undefined) return undefined;
        if (hk === tag(1, LEN)) key = s;
        else value = s;
      }
      m.leave(entryOuter);
      out.headers[key] = value;
    } else if (k === tag(7, LEN)) {
      // A repeated message field merges in fromBinary: leave that to it.
      if (out.publishTime !== undefined) return undefined;
      const t = timestamp(m);
      if (t === undefined) return undefined;
      out.publishTime = t;
    } else return undefined;
  }
  m.leave(outer);
  return out;
}

/** The response `bytes` encode when it carries deliveries in canonical form; `undefined` otherwise. */
export function decodeDeliveriesResponse(bytes: Uint8Array): SubscribeResponse | undefined {
  const r = new Reader(bytes, 0, bytes.byteLength);
  if (r.varint() !== tag(2, LEN)) return undefined;
  const end = r.bodyEnd();
  if (end !== bytes.byteLength) return undefined;
  const deliveries: { $typeName: "sluice.v1.Delivery"; message: Message | undefined; attempt: number }[] = [];
  let deadline: ReturnType<typeof timestamp>;
  const cache: TopicCache = { start: 0, end: -1, text: "" };
  while (r.pos < end) {
    const k = r.varint();
    if (k === tag(1, LEN)) {
      const outer = r.enter();
      if (outer < 0) return undefined;
      let msg: Message | undefined;
      let attempt = 0;
      while (r.pos < r.end) {
        const dk = r.varint();
        if (dk === tag(1, LEN)) {
          if (msg !== undefined) return undefined;
          msg = message(r, cache);
          if (msg === undefined) return undefined;
        } else if (dk === tag(2, VARINT)) {
          attempt = r.varint();
          if (attempt < 0 || attempt > 0xffff_ffff) return undefined;
        } else return undefined;
      }
      r.leave(outer);
      deliveries.push({ $typeName: "sluice.v1.Delivery", message: msg, attempt });
    } else if (k === tag(2, LEN)) {
      if (deadline !== undefined) return undefined;
      deadline = timestamp(r);
      if (deadline === undefined) return undefined;
    } else return undefined;
  }
  return {
    $typeName: "sluice.v1.SubscribeResponse",
    response: { case: "deliveries", value: { $typeName: "sluice.v1.SubscribeResponse.Deliveries", deliveries, deadline } },
  };
}
