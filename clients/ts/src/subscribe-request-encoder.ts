import type { SubscribeRequest } from "./gen/sluice/v1/broker_pb.js";
import type { Position } from "./gen/sluice/v1/message_pb.js";
import { bigVarintLength, fieldLength, varintLength, writeBigVarint, writeVarint } from "./varint-writer.js";

/**
 * The protobuf encoding of a `SubscribeRequest` that acks, written by hand:
 * a consumer sends one position per message it consumed, and protobuf-es's
 * generic `toBinary` cost it more CPU than decoding the deliveries did. The
 * output is byte for byte what `toBinary` writes (see the tests). Other
 * requests, and values `toBinary` would refuse, return `undefined`: the
 * caller then encodes with `toBinary`, which decides.
 * @internal
 */

const ACK = 0x12; // SubscribeRequest.ack = 2, length-delimited
const POSITIONS = 0x0a; // Ack.positions = 1, length-delimited
const ACK_ID = 0x10; // Ack.ack_id = 2, varint
const PARTITION = 0x08; // Position.partition = 1, varint
const OFFSET = 0x10; // Position.offset = 2, varint

const MAX_U64 = 2n ** 64n - 1n;

function isU64(x: bigint): boolean {
  return x >= 0n && x <= MAX_U64;
}

function isU32(x: number): boolean {
  return Number.isInteger(x) && x >= 0 && x <= 0xffff_ffff;
}

/** The body length of `p`, or -1 when the generic encoder should decide. */
function positionLength(p: Position): number {
  if (p.$unknown !== undefined || !isU32(p.partition) || !isU64(p.offset)) return -1;
  let n = 0;
  if (p.partition !== 0) n += 1 + varintLength(p.partition);
  if (p.offset !== 0n) n += 1 + bigVarintLength(p.offset);
  return n;
}

/** Encodes `m` when it is an ack in plain form; `undefined` otherwise. */
export function encodeSubscribeRequest(m: SubscribeRequest): Buffer | undefined {
  if (m.request.case !== "ack" || m.$unknown !== undefined) return undefined;
  const ack = m.request.value;
  const { positions, ackId } = ack;
  if (ack.$unknown !== undefined || !isU64(ackId)) return undefined;
  const lengths = new Int32Array(positions.length);
  let body = 0;
  for (let i = 0; i < positions.length; i++) {
    const n = positionLength(positions[i]!);
    if (n < 0) return undefined;
    lengths[i] = n;
    body += fieldLength(n);
  }
  if (ackId !== 0n) body += 1 + bigVarintLength(ackId);
  const out = Buffer.allocUnsafe(fieldLength(body));
  out[0] = ACK;
  let q = writeVarint(out, 1, body);
  for (let i = 0; i < positions.length; i++) {
    const p = positions[i]!;
    out[q++] = POSITIONS;
    q = writeVarint(out, q, lengths[i]!);
    if (p.partition !== 0) {
      out[q++] = PARTITION;
      q = writeVarint(out, q, p.partition);
    }
    if (p.offset !== 0n) {
      out[q++] = OFFSET;
      q = writeBigVarint(out, q, p.offset);
    }
  }
  if (ackId !== 0n) {
    out[q++] = ACK_ID;
    q = writeBigVarint(out, q, ackId);
  }
  if (q !== out.byteLength) throw new Error(`ack request encoding wrote ${q} bytes, expected ${out.byteLength}`);
  return out;
}
