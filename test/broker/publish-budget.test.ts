import { describe, expect, it } from "vitest";
import { PublishBudget } from "../../src/broker/publish-budget.js";

/** Whether `p` has settled by the time the microtasks queued so far have run. */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  void p.then(() => (done = true));
  await new Promise((r) => setImmediate(r));
  return done;
}

describe("PublishBudget", () => {
  it("is spent once the bytes taken reach the limit, and not after they are given back", () => {
    const b = new PublishBudget(100);
    b.take(99);
    expect(b.spent).toBe(false);
    b.take(1);
    expect(b.spent).toBe(true);
    expect(b.used).toBe(100);
    b.give(1);
    expect(b.spent).toBe(false);
    expect(b.used).toBe(99);
  });

  it("takes past the limit: one publish larger than it still goes through", () => {
    const b = new PublishBudget(100);
    b.take(250);
    expect(b.used).toBe(250);
    expect(b.spent).toBe(true);
    b.give(250);
    expect(b.used).toBe(0);
  });

  it("has room at once when not spent", async () => {
    const b = new PublishBudget(100);
    b.take(50);
    expect(await settled(b.room())).toBe(true);
  });

  it("makes every waiter wait until the bytes fall under the limit, then wakes them all", async () => {
    const b = new PublishBudget(100);
    b.take(60);
    b.take(60);
    const first = b.room();
    const second = b.room();
    b.give(10); // 110: still spent
    expect(await settled(first)).toBe(false);
    expect(await settled(second)).toBe(false);
    b.give(60); // 50
    expect(await settled(first)).toBe(true);
    expect(await settled(second)).toBe(true);
  });

  it("starts a new wait each time the budget is spent again", async () => {
    const b = new PublishBudget(10);
    b.take(10);
    const before = b.room();
    b.give(10);
    expect(await settled(before)).toBe(true);
    b.take(10);
    const after = b.room();
    expect(await settled(after)).toBe(false);
    b.give(1);
    expect(await settled(after)).toBe(true);
  });
});
