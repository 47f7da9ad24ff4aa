import { describe, expect, it } from "vitest";
import { backoffDelay, defaultReconnect, type BackoffOptions } from "../src/backoff.js";

const policy: BackoffOptions = { initialDelayMs: 100, maxDelayMs: 5000, multiplier: 2, jitter: 0.5 };

describe("backoffDelay", () => {
  it("grows exponentially from the initial delay when jitter draws zero", () => {
    const delays = [1, 2, 3, 4, 5].map((n) => backoffDelay(n, policy, () => 0));
    expect(delays).toEqual([100, 200, 400, 800, 1600]);
  });

  it("never exceeds the maximum delay, however many attempts", () => {
    expect(backoffDelay(7, policy, () => 0)).toBe(5000);
    expect(backoffDelay(1000, policy, () => 0)).toBe(5000);
    expect(backoffDelay(Number.MAX_SAFE_INTEGER, policy, () => 0)).toBe(5000);
  });

  it("takes off at most the jitter fraction of the delay", () => {
    expect(backoffDelay(3, policy, () => 0.999999)).toBe(200);
    for (let i = 0; i < 1000; i++) {
      const d = backoffDelay(3, policy);
      expect(d).toBeGreaterThanOrEqual(200);
      expect(d).toBeLessThanOrEqual(400);
    }
  });

  it("spreads the delays of many clients instead of synchronising them", () => {
    const delays = new Set(Array.from({ length: 100 }, () => backoffDelay(5, policy)));
    expect(delays.size).toBeGreaterThan(50);
  });

  it("treats attempts below 1 as the first attempt and clamps jitter to [0, 1]", () => {
    expect(backoffDelay(0, policy, () => 0)).toBe(100);
    expect(backoffDelay(-3, policy, () => 0)).toBe(100);
    expect(backoffDelay(1, { ...policy, jitter: 7 }, () => 0.5)).toBe(50);
    expect(backoffDelay(1, { ...policy, jitter: -1 }, () => 0.5)).toBe(100);
  });

  it("has defaults of 100 ms doubling to 5 s with unbounded attempts", () => {
    expect(defaultReconnect).toMatchObject({ initialDelayMs: 100, maxDelayMs: 5000, multiplier: 2, maxAttempts: Infinity });
  });
});
