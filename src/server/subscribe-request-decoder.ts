import type { Duration } from "@bufbuild/protobuf/wkt";
import type { SubscribeRequest } from "../../gen/sluice/v1/broker_pb.js";
import type { Position } from "../../gen/sluice/v1/message_pb.js";

// Tags (field number << 3 | wire type) from proto/sluice/v1/broker.proto and message.proto.
const REQUEST_ACK = (2 << 3) | 2;
const REQUEST_NACK = (3 << 3) | 2;
const REQUEST_EXTEND = (4 << 3) | 2;
const VERB_POSITIONS = (1 << 3) | 2; // Ack/Nack/Extend.positions
const ACK_ID = (2 << 3) | 0; // Ack.ack_id
const VERB_DURATION = (2 << 3) | 2; // Nack.delay, Extend.deadline
const POSITION_PARTITION = (1 << 3) | 0;
const POSITION_OFFSET = (2 << 3) | 0;
const DURATION_SECONDS = (1 << 3) | 0;
const DURATION_NANOS = (2 << 3) | 0;

/** What the readers below return for anything the fast path does not take. */
const UNUSUAL = -1;
/** Varints up to 7 bytes (49 bits) stay exact in a double. */
const MAX_EXACT_BYTES = 7;
const MAX_UINT32 = 0xffff_ffff;
const MAX_INT32 = 0x7fff_ffff;

/**
 * Decodes the `ack`, `nack` and `extend` requests of a Subscribe stream (the
 * hot path: up to 10,000 positions each) without protobuf-es's reflective
 * reader. Returns `undefined` for anything else or anything unusual (`open`,
 * unknown or repeated message fields, other wire types, multi-byte tags,
 * varints past 49 bits, negative durations, truncation, trailing bytes): the
 * caller then decodes with protobuf-es, which gives those their exact result
 * or error. What it does return equals protobuf-es's `fromBinary` result
 * (test/server/subscribe-request-decoder.test.ts).
 */
export function decodeSubscribeRequest(buf: Uint8Array): SubscribeRequest | undefined {
  const n = buf.byteLength;
  if (n < 2) return undefined;
  const tag = buf[0]!;
  const length = varint(buf, 1, 4, n);
  // The one field must span the rest: a second one would merge or replace it.
  if (length === UNUSUAL || next + length !== n) return undefined;
  let p = next;
  if (tag === REQUEST_ACK) {
    const positions: Position[] = [];
    let ackId = 0n;
    while (p < n) {
      const t = buf[p]!;
      if (t === VERB_POSITIONS) {
        p = position(buf, p + 1, n, positions);
        if (p === UNUSUAL) return undefined;
      } else if (t === ACK_ID) {
        const id = varint(buf, p + 1, MAX_EXACT_BYTES, n);
        if (id === UNUSUAL) return undefined;
        ackId = BigInt(id);
        p = next;
      } else {
        return undefined;
      }
    }
    return {
      $typeName: "sluice.v1.SubscribeRequest",
      request: { case: "ack", value: { $typeName: "sluice.v1.SubscribeRequest.Ack", positions, ackId } },
    };
  }
  if (tag !== REQUEST_NACK && tag !== REQUEST_EXTEND) return undefined;
  const positions: Position[] = [];
  let duration: Duration | undefined;
  while (p < n) {
    const t = buf[p]!;
    if (t === VERB_POSITIONS) {
      p = position(buf, p + 1, n, positions);
      if (p === UNUSUAL) return undefined;
    } else if (t === VERB_DURATION && duration === undefined) {
      // (A second Duration would merge into the first: left to protobuf-es.)
      duration = readDuration(buf, p + 1, n);
      if (duration === undefined) return undefined;
      p = next;
    } else {
      return undefined;
    }
  }
  if (tag === REQUEST_NACK) {
    const value = { $typeName: "sluice.v1.SubscribeRequest.Nack" as const, positions };
    return {
      $typeName: "sluice.v1.SubscribeRequest",
      request: { case: "nack", value: duration === undefined ? value : { ...value, delay: duration } },
    };
  }
  const value = { $typeName: "sluice.v1.SubscribeRequest.Extend" as const, positions };
  return {
    $typeName: "sluice.v1.SubscribeRequest",
    request: { case: "extend", value: duration === undefined ? value : { ...value, deadline: duration } },
  };
}

/** Where the last {@link varint} ended (a module variable: no result object per read). */
let next = 0;

/**
 * The varint at `p` (at most `maxBytes` bytes, ending before `end`) as a
 * number, or UNUSUAL; sets {@link next}.
 */
function varint(buf: Uint8Array, p: number, maxBytes: number, end: number): number {
  let value = 0;
  let scale = 1;
  const last = Math.min(p + maxBytes, end);
  while (p < last) {
    const b = buf[p++]!;
    value += (b & 0x7f) * scale;
    if (b < 0x80) {
      next = p;
      return value;
    }
    scale *= 128;
  }
  return UNUSUAL;
}

/** Reads the length-prefixed Position at `p` into `out`; returns the position after it, or UNUSUAL. */
function position(buf: Uint8Array, p: number, n: number, out: Position[]): number {
  const length = varint(buf, p, 4, n);
  if (length === UNUSUAL) return UNUSUAL;
  p = next;
  const end = p + length;
  if (end > n) return UNUSUAL;
  let partition = 0;
  let offset = 0;
  while (p < end) {
    const t = buf[p]!;
    if (t === POSITION_PARTITION) {
      // uint32: protobuf-es keeps 4 bits of a fifth byte; more is unusual.
      partition = varint(buf, p + 1, 5, end);
      if (partition === UNUSUAL || partition > MAX_UINT32) return UNUSUAL;
    } else if (t === POSITION_OFFSET) {
      offset = varint(buf, p + 1, MAX_EXACT_BYTES, end);
      if (offset === UNUSUAL) return UNUSUAL;
    } else {
      return UNUSUAL;
    }
    p = next;
  }
  out.push({ $typeName: "sluice.v1.Position", partition, offset: BigInt(offset) });
  return end;
}

/** The length-prefixed non-negative Duration at `p`, or undefined; sets {@link next}. */
function readDuration(buf: Uint8Array, p: number, n: number): Duration | undefined {
  const length = varint(buf, p, 4, n);
  if (length === UNUSUAL) return undefined;
  p = next;
  const end = p + length;
  if (end > n) return undefined;
  let seconds = 0;
  let nanos = 0;
  while (p < end) {
    const t = buf[p]!;
    if (t === DURATION_SECONDS) {
      seconds = varint(buf, p + 1, MAX_EXACT_BYTES, end);
      if (seconds === UNUSUAL) return undefined;
    } else if (t === DURATION_NANOS) {
      nanos = varint(buf, p + 1, 5, end);
      if (nanos === UNUSUAL || nanos > MAX_INT32) return undefined;
    } else {
      return undefined;
    }
    p = next;
  }
  next = end;
  return { $typeName: "google.protobuf.Duration", seconds: BigInt(seconds), nanos };
}
