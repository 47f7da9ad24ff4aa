import type { SubscribeResponse } from "./gen/sluice/v1/broker_pb.js";
import type { Message } from "./gen/sluice/v1/message_pb.js";

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

const VARINT = 0;
const LEN = 2;
const tag = (field: number, wire: number): number => (field << 3) | wire;

const strict = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const EMPTY = new Uint8Array(0);

/** A position in `buf` that gives up (-1 / undefined) instead of throwing. */
class Reader {
  constructor(
    readonly buf: Uint8Array,
    public pos: number,
    readonly end: number,
  ) {}

  /** A varint up to 2^53 - 1; -1 when longer, truncated or larger. */
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

  /** The end of a length-delimited body starting at `pos` after its length; -1 when out of bounds. */
  bodyEnd(): number {
    const len = this.varint();
    if (len < 0 || this.pos + len > this.end) return -1;
    return this.pos + len;
  }

  /** A string field's text; undefined for invalid UTF-8 or bad bounds. */
  string(): string | undefined {
    const end = this.bodyEnd();
    if (end < 0) return undefined;
    const start = this.pos;
    this.pos = end;
    const buf = this.buf;
    for (let i = start; i < end; i++) {
      if (buf[i]! > 0x7f) {
        try {
          return strict.decode(buf.subarray(start, end));
        } catch {
          return undefined;
        }
      }
    }
    return Buffer.from(buf.buffer, buf.byteOffset + start, end - start).toString("latin1");
  }
}

function timestamp(r: Reader): { $typeName: "google.protobuf.Timestamp"; seconds: bigint; nanos: number } | undefined {
  const end = r.bodyEnd();
  if (end < 0) return undefined;
  const t = new Reader(r.buf, r.pos, end);
  r.pos = end;
  let seconds = 0;
  let nanos = 0;
  while (t.pos < t.end) {
    const k = t.varint();
    // Negative values (ten-byte varints) take the general path.
    if (k === tag(1, VARINT)) seconds = t.varint();
    else if (k === tag(2, VARINT)) nanos = t.varint();
    else return undefined;
    if (seconds < 0 || nanos < 0 || nanos > 0x7fff_ffff) return undefined;
  }
  return { $typeName: "google.protobuf.Timestamp", seconds: BigInt(seconds), nanos };
}

function message(r: Reader): Message | undefined {
  const end = r.bodyEnd();
  if (end < 0) return undefined;
  const m = new Reader(r.buf, r.pos, end);
  r.pos = end;
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
    if (k === tag(1, LEN) || k === tag(4, LEN) || k === tag(8, LEN)) {
      const s = m.string();
      if (s === undefined) return undefined;
      if (k === tag(1, LEN)) out.topic = s;
      else if (k === tag(4, LEN)) out.key = s;
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
      const e = m.bodyEnd();
      if (e < 0) return undefined;
      const h = new Reader(m.buf, m.pos, e);
      m.pos = e;
      let key = "";
      let value = "";
      while (h.pos < h.end) {
        const hk = h.varint();
        if (hk !== tag(1, LEN) && hk !== tag(2, LEN)) return undefined;
        const s = h.string();
        if (s === undefined) return undefined;
        if (hk === tag(1, LEN)) key = s;
        else value = s;
      }
      out.headers[key] = value;
    } else if (k === tag(7, LEN)) {
      // A repeated message field merges in fromBinary: leave that to it.
      if (out.publishTime !== undefined) return undefined;
      const t = timestamp(m);
      if (t === undefined) return undefined;
      out.publishTime = t;
    } else return undefined;
  }
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
  while (r.pos < end) {
    const k = r.varint();
    if (k === tag(1, LEN)) {
      const dEnd = r.bodyEnd();
      if (dEnd < 0) return undefined;
      const d = new Reader(bytes, r.pos, dEnd);
      r.pos = dEnd;
      let msg: Message | undefined;
      let attempt = 0;
      while (d.pos < d.end) {
        const dk = d.varint();
        if (dk === tag(1, LEN)) {
          if (msg !== undefined) return undefined;
          msg = message(d);
          if (msg === undefined) return undefined;
        } else if (dk === tag(2, VARINT)) {
          attempt = d.varint();
          if (attempt < 0 || attempt > 0xffff_ffff) return undefined;
        } else return undefined;
      }
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
