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

  it("agrees with a plain set under random runs, like streams acking their batches", () => {
    let seed = 11;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let round = 0; round < 20; round++) {
      const s = new AckSet(5n);
      const ref = new Set<bigint>();
      for (let o = 0n; o < 5n; o++) ref.add(o);
      let prevEnd = 0n;
      for (let i = 0; i < 300; i++) {
        // Half the runs continue just after the previous one, as a stream's do.
        const start = rand() < 0.5 ? BigInt(Math.floor(rand() * 3000)) : prevEnd + BigInt(Math.floor(rand() * 3));
        const end = start + BigInt(Math.floor(rand() * 40)) - 2n;
        prevEnd = end;
        s.addRange(start, end);
        for (let o = start; o < end; o++) ref.add(o);
        let floor = 0n;
        while (ref.has(floor)) floor++;
        expect(s.floor).toBe(floor);
        expect(s.ackedAbove).toBe(BigInt([...ref].filter((o) => o >= floor).length));
      }
      for (let o = 0n; o < 3100n; o++) expect(s.has(o)).toBe(ref.has(o));
      // The ranges stay sorted, disjoint, non-adjacent and above the floor.
      const flat = s.ranges().flat();
      for (let k = 1; k < flat.length; k++) expect(flat[k]! > flat[k - 1]!).toBe(true);
      if (flat.length > 0) expect(flat[0]! > s.floor).toBe(true);
    }
  });
});
