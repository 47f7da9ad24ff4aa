import type { PublishStreamResponse } from "./gen/sluice/v1/broker_pb.js";
import type { PublishResult } from "./gen/sluice/v1/message_pb.js";
import { LEN, Reader, VARINT, tag } from "./wire-reader.js";

/**
 * A hand-written decoder of `PublishStreamResponse`, which answers every
 * publish request with one result per message: protobuf-es's generic
 * `fromBinary` made several objects per result and cost the publisher more
 * than encoding the request. It takes the canonical encoding of results
 * (known fields with their wire types, values in range) and returns
 * `undefined` for anything else, a request error included, so that the
 * caller decodes with `fromBinary`, which then decides. What it returns
 * equals `fromBinary`'s result.
 * @internal
 */
export function decodePublishStreamResponse(bytes: Uint8Array): PublishStreamResponse | undefined {
  const r = new Reader(bytes, 0, bytes.byteLength);
  let requestId = 0n;
  const results: PublishResult[] = [];
  while (r.pos < r.end) {
    const k = r.varint();
    if (k === tag(1, VARINT)) {
      const v = r.varint();
      if (v < 0) return undefined;
      requestId = BigInt(v);
    } else if (k === tag(2, LEN)) {
      const result = decodeResult(r);
      if (result === undefined) return undefined;
      results.push(result);
    } else return undefined;
  }
  return { $typeName: "sluice.v1.PublishStreamResponse", requestId, results, error: undefined };
}

function decodeResult(r: Reader): PublishResult | undefined {
  // Narrowed to the result's body, a varint running past it reads as -1.
  const outer = r.enter();
  if (outer < 0) return undefined;
  let partition = 0;
  let offset = 0;
  let duplicate = false;
  while (r.pos < r.end) {
    const k = r.varint();
    const v = r.varint();
    if (v < 0) return undefined;
    if (k === tag(1, VARINT) && v <= 0xffff_ffff) partition = v;
    else if (k === tag(2, VARINT)) offset = v;
    else if (k === tag(3, VARINT) && v <= 1) duplicate = v === 1;
    else return undefined;
  }
  r.leave(outer);
  return { $typeName: "sluice.v1.PublishResult", partition, offset: BigInt(offset), duplicate };
}
