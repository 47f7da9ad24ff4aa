import { describe, expect, it } from "vitest";
import { fnv1a32, partitionForKey } from "../../src/broker/partitioner.js";

describe("key partitioning", () => {
  it("uses the standard FNV-1a 32-bit test vectors", () => {
    expect(fnv1a32("")).toBe(0x811c9dc5);
    expect(fnv1a32("a")).toBe(0xe40c292c);
    expect(fnv1a32("foobar")).toBe(0xbf9cf968);
  });

  it("hashes the UTF-8 bytes of the key", () => {
    // "é" is two bytes in UTF-8: 0xc3 0xa9.
    let h = 0x811c9dc5;
    for (const b of [0xc3, 0xa9]) h = Math.imul(h ^ b, 0x01000193) >>> 0;
    expect(fnv1a32("é")).toBe(h);
  });

  it("maps a key to hash modulo the partition count", () => {
    expect(partitionForKey("foobar", 7)).toBe(0xbf9cf968 % 7);
  });
});
