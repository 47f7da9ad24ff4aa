import { describe, expect, it } from "vitest";
import { LeaseTracker } from "../src/lease-tracker.js";

describe("LeaseTracker", () => {
  it("extends nothing while more than half an ack deadline is left", () => {
    const t = new LeaseTracker<string>(10_000, 600_000);
    t.add("a", 0);
    expect(t.due(4_999)).toEqual([]);
  });

  it("extends by one ack deadline once half of it is left", () => {
    const t = new LeaseTracker<string>(10_000, 600_000);
    t.add("a", 0);
    expect(t.due(5_000)).toEqual([{ item: "a", extendMs: 10_000 }]);
    // The new expiry is 15 000: nothing more until 10 000.
    expect(t.due(9_999)).toEqual([]);
    expect(t.due(10_000)).toEqual([{ item: "a", extendMs: 10_000 }]);
  });

  it("keeps a message leased by repeated extensions until maxLeaseMs, then drops it", () => {
    const t = new LeaseTracker<string>(1_000, 3_000);
    t.add("a", 0);
    const extensions: number[] = [];
    for (let now = 0; now <= 6_000; now += 250) {
      for (const d of t.due(now)) extensions.push(now);
    }
    expect(extensions.length).toBeGreaterThanOrEqual(4);
    expect(Math.max(...extensions)).toBeLessThan(3_000);
    expect(t.size).toBe(0);
  });

  it("shortens the last extension to what is left of maxLeaseMs, but not below the broker's 1 s", () => {
    const t = new LeaseTracker<string>(30_000, 40_000);
    t.add("a", 0);
    expect(t.due(15_000)).toEqual([{ item: "a", extendMs: 25_000 }]);
    const u = new LeaseTracker<string>(30_000, 40_000);
    u.add("b", 0);
    u.extended("b", 0, 39_700);
    expect(u.due(39_600)).toEqual([{ item: "b", extendMs: 1_000 }]);
  });

  it("caps an extension at the broker's 600 s", () => {
    const t = new LeaseTracker<string>(900_000, 3_600_000);
    t.add("a", 0);
    expect(t.due(450_000)).toEqual([{ item: "a", extendMs: 600_000 }]);
  });

  it("stops tracking settled messages and everything on clear", () => {
    const t = new LeaseTracker<string>(1_000, 60_000);
    t.add("a", 0);
    t.add("b", 0);
    t.delete("a");
    expect(t.due(900).map((d) => d.item)).toEqual(["b"]);
    t.clear();
    expect(t.due(5_000)).toEqual([]);
  });

  it("follows an explicit extension", () => {
    const t = new LeaseTracker<string>(1_000, 60_000);
    t.add("a", 0);
    t.extended("a", 0, 20_000);
    expect(t.due(9_000)).toEqual([]);
    expect(t.due(19_600).map((d) => d.item)).toEqual(["a"]);
  });
});
