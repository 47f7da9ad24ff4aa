import { describe, expect, it } from "vitest";
import { Batcher } from "../src/batcher.js";

function collect(maxItems: number, maxBytes: number) {
  const sealed: { items: string[]; bytes: number }[] = [];
  const batcher = new Batcher<string>(maxItems, maxBytes, (items, bytes) => sealed.push({ items, bytes }));
  return { batcher, sealed };
}

describe("Batcher", () => {
  it("seals a batch as soon as it reaches the item count", () => {
    const { batcher, sealed } = collect(3, 1000);
    for (const x of ["a", "b", "c", "d"]) batcher.add(x, 1);
    expect(sealed).toEqual([{ items: ["a", "b", "c"], bytes: 3 }]);
    expect(batcher.size).toBe(1);
  });

  it("seals the open batch before an item that would take it over the byte bound", () => {
    const { batcher, sealed } = collect(100, 10);
    batcher.add("a", 4);
    batcher.add("b", 4);
    batcher.add("c", 4);
    expect(sealed).toEqual([{ items: ["a", "b"], bytes: 8 }]);
    expect(batcher.size).toBe(1);
  });

  it("counts an item as its count and seals the open batch before one that would take it past maxItems", () => {
    const { batcher, sealed } = collect(5, 1000);
    batcher.add("one", 1);
    batcher.add("three", 3, 3);
    expect(sealed).toEqual([]);
    expect(batcher.size).toBe(4);
    batcher.add("two", 2, 2);
    expect(sealed).toEqual([{ items: ["one", "three"], bytes: 4 }]);
    expect(batcher.size).toBe(2);
  });

  it("sends an item larger than the byte bound alone", () => {
    const { batcher, sealed } = collect(100, 10);
    batcher.add("a", 1);
    batcher.add("huge", 50);
    expect(sealed).toEqual([
      { items: ["a"], bytes: 1 },
      { items: ["huge"], bytes: 50 },
    ]);
  });

  it("reports the first item of an open batch, the moment to start lingering", () => {
    const { batcher } = collect(2, 1000);
    expect(batcher.add("a", 1)).toBe(true);
    expect(batcher.add("b", 1)).toBe(false); // sealed: full
    expect(batcher.add("c", 1)).toBe(true);
    expect(batcher.add("d", 1)).toBe(false);
  });

  it("flush seals a partial batch and does nothing when empty", () => {
    const { batcher, sealed } = collect(10, 1000);
    batcher.flush();
    expect(sealed).toEqual([]);
    batcher.add("a", 2);
    batcher.flush();
    expect(sealed).toEqual([{ items: ["a"], bytes: 2 }]);
  });

  it("take removes the open batch without sealing it", () => {
    const { batcher, sealed } = collect(10, 1000);
    batcher.add("a", 1);
    batcher.add("b", 1);
    expect(batcher.take()).toEqual(["a", "b"]);
    expect(batcher.size).toBe(0);
    expect(sealed).toEqual([]);
  });
});
