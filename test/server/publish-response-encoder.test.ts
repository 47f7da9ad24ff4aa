import { create, toBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { PublishResponseSchema, PublishStreamResponseSchema } from "../../gen/sluice/v1/broker_pb.js";
import type { PublishResult } from "../../src/broker/types.js";
import { encodePublishResponse, encodePublishStreamResponse } from "../../src/server/publish-response-encoder.js";

function randomResults(seed: number): PublishResult[] {
  let s = seed;
  const next = () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
  const offsets = [0n, 1n, 127n, 128n, 16_383n, 16_384n, 2n ** 31n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 63n, 2n ** 64n - 1n];
  const partitions = [0, 1, 127, 128, 65_535, 2 ** 32 - 1];
  const n = Math.floor(next() * 50);
  return Array.from({ length: n }, () => ({
    partition: partitions[Math.floor(next() * partitions.length)]!,
    offset: next() < 0.5 ? offsets[Math.floor(next() * offsets.length)]! : BigInt(Math.floor(next() * 1e12)),
    duplicate: next() < 0.2 ? true : next() < 0.5 ? false : undefined,
  }));
}

const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

describe("the publish response encoder", () => {
  it("writes PublishStreamResponse exactly as protobuf-es's toBinary does", () => {
    const ids = [0n, 1n, 300n, 2n ** 40n, 2n ** 64n - 1n];
    for (let i = 0; i < 500; i++) {
      const results = randomResults(i + 1);
      const requestId = ids[i % ids.length]!;
      const expected = toBinary(PublishStreamResponseSchema, create(PublishStreamResponseSchema, { requestId, results }));
      expect(same(encodePublishStreamResponse(requestId, results), expected), `case ${i}`).toBe(true);
    }
  });

  it("writes PublishResponse exactly as protobuf-es's toBinary does", () => {
    for (let i = 0; i < 200; i++) {
      const results = randomResults(1000 + i);
      const expected = toBinary(PublishResponseSchema, create(PublishResponseSchema, { results }));
      expect(same(encodePublishResponse(results), expected), `case ${i}`).toBe(true);
    }
  });
});
