import { describe, expect, it } from "vitest";
import { MinHeap } from "../../src/broker/min-heap.js";

describe("MinHeap", () => {
  it("pops entries in key order", () => {
    const h = new MinHeap<number>((n) => n);
    const input = [5, 3, 9, 1, 4, 1, 8, 2, 7];
    for (const n of input) h.push(n);
    const out: number[] = [];
    for (let n = h.pop(); n !== undefined; n = h.pop()) out.push(n);
    expect(out).toEqual([...input].sort((a, b) => a - b));
  });

  it("is empty after popping everything", () => {
    const h = new MinHeap<number>((n) => n);
    h.push(1);
    h.pop();
    expect(h.size).toBe(0);
    expect(h.peek()).toBeUndefined();
  });
});
