import type { Duration } from "@bufbuild/protobuf/wkt";
import type { SubscribeRequest } from "../../gen/sluice/v1/broker_pb.js";
import type { Position } from "../../gen/sluice/v1/message_pb.js";
import { UNUSUAL, WireReader } from "./wire-reader.js";

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
  const r = new WireReader(buf, 1, n);
  // The one field must span the rest: a second one would merge or replace it.
  if (r.bodyEnd(4) !== n) return undefined;
  if (tag === REQUEST_ACK) {
    const positions: Position[] = [];
    let ackId = 0n;
    while (r.pos < n) {
      const t = buf[r.pos++]!;
      if (t === VERB_POSITIONS) {
        if (!position(r, positions)) return undefined;
      } else if (t === ACK_ID) {
        const id = r.varint(MAX_EXACT_BYTES);
        if (id === UNUSUAL) return undefined;
        ackId = BigInt(id);
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
  while (r.pos < n) {
    const t = buf[r.pos++]!;
    if (t === VERB_POSITIONS) {
      if (!position(r, positions)) return undefined;
    } else if (t === VERB_DURATION && duration === undefined) {
      // (A second Duration would merge into the first: left to protobuf-es.)
      duration = readDuration(r);
      if (duration === undefined) return undefined;
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

/** Reads the length-prefixed Position at the reader into `out`; false for anything unusual. */
function position(r: WireReader, out: Position[]): boolean {
  const end = r.bodyEnd(4);
  if (end === UNUSUAL) return false;
  const outer = r.end;
  r.end = end;
  let partition = 0;
  let offset = 0;
  while (r.pos < end && offset !== UNUSUAL) {
    const t = r.buf[r.pos++]!;
    if (t === POSITION_PARTITION) {
      // uint32: protobuf-es keeps 4 bits of a fifth byte; more is unusual.
      partition = r.varint(5);
      if (partition > MAX_UINT32) partition = UNUSUAL;
      if (partition === UNUSUAL) offset = UNUSUAL;
    } else if (t === POSITION_OFFSET) {
      offset = r.varint(MAX_EXACT_BYTES);
    } else {
      offset = UNUSUAL;
    }
  }
  r.end = outer;
  if (offset === UNUSUAL) return false;
  out.push({ $typeName: "sluice.v1.Position", partition, offset: BigInt(offset) });
  return true;
}

/** The length-prefixed non-negative Duration at the reader, or undefined. */
function readDuration(r: WireReader): Duration | undefined {
  const end = r.bodyEnd(4);
  if (end === UNUSUAL) return undefined;
  const outer = r.end;
  r.end = end;
  let seconds = 0;
  let nanos = 0;
  while (r.pos < end && seconds !== UNUSUAL && nanos !== UNUSUAL) {
    const t = r.buf[r.pos++]!;
    if (t === DURATION_SECONDS) seconds = r.varint(MAX_EXACT_BYTES);
    else if (t === DURATION_NANOS) {
      nanos = r.varint(5);
      if (nanos > MAX_INT32) nanos = UNUSUAL;
    } else seconds = UNUSUAL;
  }
  r.end = outer;
  if (seconds === UNUSUAL || nanos === UNUSUAL) return undefined;
  return { $typeName: "google.protobuf.Duration", seconds: BigInt(seconds), nanos };
}
