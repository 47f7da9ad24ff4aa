import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Linger } from "../src/linger.js";

describe("Linger", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("fires once lingerMs after the first start; later starts do not restart it", () => {
    const fire = vi.fn();
    const linger = new Linger(50, fire);
    linger.start(false);
    vi.advanceTimersByTime(30);
    linger.start(false);
    vi.advanceTimersByTime(19);
    expect(fire).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(fire).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(100);
    expect(fire).toHaveBeenCalledTimes(1);
  });

  it("fires at the end of the turn when told to hurry, bringing a running wait forward", () => {
    const fire = vi.fn();
    const linger = new Linger(60_000, fire);
    linger.start(false);
    linger.start(true);
    vi.runOnlyPendingTimers();
    expect(fire).toHaveBeenCalledTimes(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("waits one turn when lingerMs is 0, and a cancelled wait never fires", () => {
    const fire = vi.fn();
    const now = new Linger(0, fire);
    now.start(false);
    vi.runOnlyPendingTimers();
    expect(fire).toHaveBeenCalledTimes(1);
    const cancelled = new Linger(10, fire);
    cancelled.start(false);
    cancelled.cancel();
    vi.advanceTimersByTime(1000);
    expect(fire).toHaveBeenCalledTimes(1);
    // It can start again after firing or a cancel.
    cancelled.start(false);
    vi.advanceTimersByTime(10);
    expect(fire).toHaveBeenCalledTimes(2);
  });
});
