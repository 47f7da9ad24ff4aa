import { describe, expect, it } from "vitest";
import { AckConfirmations } from "../src/ack-confirmations.js";
import { Code } from "../src/code.js";
import { SluiceError } from "../src/sluice-error.js";
import { newWaiter } from "../src/waiter.js";

describe("AckConfirmations", () => {
  it("numbers ack requests from 1 and asks no confirmation for a request without waiters", () => {
    const c = new AckConfirmations();
    expect(c.track([])).toBe(0n);
    expect(c.track([newWaiter()[1]])).toBe(1n);
    expect(c.track([newWaiter()[1]])).toBe(2n);
    expect(c.size).toBe(2);
  });

  it("resolves a request's waiters on its confirmation and ignores unknown ids", async () => {
    const c = new AckConfirmations();
    const [p1, w1] = newWaiter();
    const [p2, w2] = newWaiter();
    const id = c.track([w1, w2]);
    c.confirmed(99n);
    expect(c.size).toBe(1);
    const idle = c.idle();
    c.confirmed(id);
    await Promise.all([p1, p2, idle]);
    expect(c.size).toBe(0);
  });

  it("rejects every pending waiter when its stream is gone, and is idle afterwards", async () => {
    const c = new AckConfirmations();
    const [p1, w1] = newWaiter();
    const [p2, w2] = newWaiter();
    c.track([w1]);
    c.track([w2]);
    const idle = c.idle();
    c.failAll(new SluiceError(Code.Unavailable, "gone"));
    await expect(p1).rejects.toMatchObject({ code: Code.Unavailable });
    await expect(p2).rejects.toMatchObject({ code: Code.Unavailable });
    await idle;
    await c.idle();
  });
});
