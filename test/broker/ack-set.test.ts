import { describe, expect, it } from "vitest";
import { AckSet } from "../../src/broker/ack-set.js";

describe("AckSet", () => {
  it("advances the floor over contiguous acks", () => {
    const s = new AckSet(0n);
    s.add(0n);
    s.add(1n);
    expect(s.floor).toBe(2n);
    expect(s.ranges()).toEqual([]);
  });

  it("keeps acks above a gap as ranges and merges them when the gap closes", () => {
    const s = new AckSet(0n);
    for (const o of [2n, 3n, 5n, 4n, 7n]) s.add(o);
    expect(s.floor).toBe(0n);
    expect(s.ranges()).toEqual([
      [2n, 6n],
      [7n, 8n],
    ]);
    expect(s.ackedAbove).toBe(5n);
    s.add(1n);
    s.add(0n);
    expect(s.floor).toBe(6n);
    expect(s.ranges()).toEqual([[7n, 8n]]);
    expect(s.ackedAbove).toBe(1n);
  });

  it("answers membership for the floor, ranges and gaps", () => {
    const s = new AckSet(10n, [[12n, 14n]]);
    expect(s.has(9n)).toBe(true);
    expect(s.has(10n)).toBe(false);
    expect(s.has(12n)).toBe(true);
    expect(s.has(13n)).toBe(true);
    expect(s.has(14n)).toBe(false);
    expect(s.add(12n)).toBe(false);
  });

  it("holds one unacked message below a million acked ones in one range", () => {
    const s = new AckSet(0n);
    for (let o = 1n; o <= 1_000_000n; o++) s.add(o);
    expect(s.floor).toBe(0n);
    expect(s.ranges()).toEqual([[1n, 1_000_001n]]);
    s.add(0n);
    expect(s.floor).toBe(1_000_001n);
  });

  it("agrees with a plain set under random acks", () => {
    let seed = 7;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const s = new AckSet(0n);
    const ref = new Set<bigint>();
    for (let i = 0; i < 5000; i++) {
      const o = BigInt(Math.floor(rand() * 2000));
      s.add(o);
      ref.add(o);
    }
    let floor = 0n;
    while (ref.has(floor)) floor++;
    expect(s.floor).toBe(floor);
    for (let o = 0n; o < 2100n; o++) expect(s.has(o)).toBe(o < floor || ref.has(o));
    expect(s.ackedAbove).toBe(BigInt([...ref].filter((o) => o >= floor).length));
  });
});
