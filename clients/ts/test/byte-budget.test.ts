import { describe, expect, it } from "vitest";
import { ByteBudget } from "../src/byte-budget.js";

describe("ByteBudget", () => {
  it("grants at once while the bytes fit", () => {
    const granted: string[] = [];
    const budget = new ByteBudget<string>(10, (x) => granted.push(x));
    expect(budget.acquire("a", 4)).toBe(true);
    expect(budget.acquire("b", 6)).toBe(true);
    expect(budget.used).toBe(10);
    expect(granted).toEqual([]);
  });

  it("makes later items wait, in order, until releases make room", () => {
    const granted: string[] = [];
    const budget = new ByteBudget<string>(10, (x) => granted.push(x));
    budget.acquire("a", 8);
    expect(budget.acquire("b", 5)).toBe(false);
    // Fits, but must not overtake "b".
    expect(budget.acquire("c", 1)).toBe(false);
    expect(budget.waiting).toBe(2);
    budget.release(8);
    expect(granted).toEqual(["b", "c"]);
    expect(budget.used).toBe(6);
    expect(budget.waiting).toBe(0);
  });

  it("grants an item larger than the bound once nothing else is in use", () => {
    const granted: string[] = [];
    const budget = new ByteBudget<string>(10, (x) => granted.push(x));
    budget.acquire("a", 5);
    expect(budget.acquire("huge", 50)).toBe(false);
    budget.release(5);
    expect(granted).toEqual(["huge"]);
    expect(budget.acquire("empty-budget-huge", 50)).toBe(false);
    budget.release(50);
    expect(granted).toEqual(["huge", "empty-budget-huge"]);
  });

  it("takeWaiting hands back waiting items without granting them", () => {
    const granted: string[] = [];
    const budget = new ByteBudget<string>(1, (x) => granted.push(x));
    budget.acquire("a", 1);
    budget.acquire("b", 1);
    budget.acquire("c", 1);
    expect(budget.takeWaiting()).toEqual(["b", "c"]);
    budget.release(1);
    expect(granted).toEqual([]);
    expect(budget.used).toBe(0);
  });
});
