import type { PublishResult } from "../broker/types.js";
import { varintLength, writeVarint } from "./varint.js";

// Field numbers from proto/sluice/v1/broker.proto and message.proto.
const STREAM_REQUEST_ID = 1; // PublishStreamResponse.request_id
const STREAM_RESULTS = 2; // PublishStreamResponse.results
const RESPONSE_RESULTS = 1; // PublishResponse.results
const RESULT_PARTITION = 1;
const RESULT_OFFSET = 2;
const RESULT_DUPLICATE = 3;
const VARINT = 0;
const LENGTH_DELIMITED = 2;

/**
 * Encodes a `PublishStreamResponse{request_id, results}` directly: a publish
 * answers up to thousands of results, and building them as protobuf-es
 * messages and serialising those cost more than storing the messages. The
 * bytes are what protobuf-es's `toBinary` writes (test/server/publish-response-encoder.test.ts).
 */
export function encodePublishStreamResponse(requestId: bigint, results: readonly PublishResult[]): Uint8Array {
  const idLen = requestId === 0n ? 0 : 1 + varintLength(requestId);
  const out = Buffer.allocUnsafe(idLen + resultsLength(results));
  let p = 0;
  if (idLen > 0) {
    out[p++] = (STREAM_REQUEST_ID << 3) | VARINT;
    p = writeVarint(out, p, requestId);
  }
  writeResults(out, p, STREAM_RESULTS, results);
  return out;
}

/** Encodes a `PublishResponse{results}` (the unary Publish answer) directly, as {@link encodePublishStreamResponse}. */
export function encodePublishResponse(results: readonly PublishResult[]): Uint8Array {
  const out = Buffer.allocUnsafe(resultsLength(results));
  writeResults(out, 0, RESPONSE_RESULTS, results);
  return out;
}

function resultLength(r: PublishResult): number {
  return (
    (r.partition !== 0 ? 1 + varintLength(r.partition) : 0) +
    (r.offset !== 0n ? 1 + varintLength(r.offset) : 0) +
    (r.duplicate === true ? 2 : 0)
  );
}

function resultsLength(results: readonly PublishResult[]): number {
  let n = 0;
  for (const r of results) {
    const len = resultLength(r);
    n += 1 + varintLength(len) + len;
  }
  return n;
}

function writeResults(out: Uint8Array, p: number, field: number, results: readonly PublishResult[]): number {
  for (const r of results) {
    out[p++] = (field << 3) | LENGTH_DELIMITED;
    p = writeVarint(out, p, resultLength(r));
    if (r.partition !== 0) {
      out[p++] = (RESULT_PARTITION << 3) | VARINT;
      p = writeVarint(out, p, r.partition);
    }
    if (r.offset !== 0n) {
      out[p++] = (RESULT_OFFSET << 3) | VARINT;
      p = writeVarint(out, p, r.offset);
    }
    if (r.duplicate === true) {
      out[p++] = (RESULT_DUPLICATE << 3) | VARINT;
      out[p++] = 1;
    }
  }
  return p;
}
