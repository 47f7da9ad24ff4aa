import { describe, expect, it } from "vitest";
import { DedupeIndex, restoreDedupe } from "../../src/broker/dedupe-index.js";
import { MemoryStorage } from "../../src/storage/memory-storage.js";
import { topic } from "../storage/storage-contract-helpers.js";

const T0 = 1_700_000_000_000;
const WINDOW = 1000;

function index(maxEntries = 1000): { index: DedupeIndex; fullCalls: () => number } {
  let calls = 0;
  return { index: new DedupeIndex(maxEntries, () => calls++), fullCalls: () => calls };
}

describe("dedupe index", () => {
  it("finds an id within its window with its first position, and not from the window's end on", () => {
    const { index: ix } = index();
    ix.add(1, "a", 3, 42n, T0, WINDOW);
    expect(ix.find(1, "a", WINDOW, T0 + WINDOW - 1)).toMatchObject({ partition: 3, offset: 42n, timeMs: T0 });
    expect(ix.find(1, "a", WINDOW, T0 + WINDOW)).toBeUndefined();
    expect(ix.find(2, "a", WINDOW, T0)).toBeUndefined();
    expect(ix.find(1, "b", WINDOW, T0)).toBeUndefined();
  });

  it("applies the window asked for at lookup, so a shorter window takes effect at once", () => {
    const { index: ix } = index();
    ix.add(1, "a", 0, 0n, T0, 60_000);
    expect(ix.find(1, "a", 60_000, T0 + 5000)).toBeDefined();
    expect(ix.find(1, "a", 5000, T0 + 5000)).toBeUndefined();
  });

  it("forgets expired entries as newer ones arrive, and on expire()", () => {
    const { index: ix } = index();
    for (let i = 0; i < 10; i++) ix.add(1, `m${i}`, 0, BigInt(i), T0 + i * 100, WINDOW);
    expect(ix.size).toBe(10);
    ix.add(1, "late", 0, 10n, T0 + 1450, WINDOW);
    // m0..m4 (times up to T0+400) expired by T0+1450.
    expect(ix.size).toBe(6);
    expect(ix.find(1, "m4", WINDOW, T0 + 1300)).toBeUndefined();
    ix.expire(1, WINDOW, T0 + 10_000);
    expect(ix.size).toBe(0);
    expect(ix.topicSize(1)).toBe(0);
  });

  it("replaces an expired entry of the same id with the new position", () => {
    const { index: ix } = index();
    ix.add(1, "a", 0, 1n, T0, WINDOW);
    ix.add(1, "a", 2, 9n, T0 + WINDOW, WINDOW);
    expect(ix.find(1, "a", WINDOW, T0 + WINDOW)).toMatchObject({ partition: 2, offset: 9n });
    expect(ix.size).toBe(1);
  });

  it("withdraws an entry whose write failed", () => {
    const { index: ix } = index();
    const e = ix.add(1, "a", 0, 1n, T0, WINDOW);
    ix.withdraw(e);
    expect(ix.find(1, "a", WINDOW, T0)).toBeUndefined();
    expect(ix.size).toBe(0);
    ix.withdraw(e);
    expect(ix.size).toBe(0);
  });

  it("evicts the oldest entries broker-wide beyond the cap, and reports it once", () => {
    const { index: ix, fullCalls } = index(3);
    ix.add(1, "a", 0, 0n, T0, 60_000);
    ix.add(2, "b", 0, 0n, T0 + 1, 60_000);
    ix.add(1, "c", 0, 1n, T0 + 2, 60_000);
    expect(fullCalls()).toBe(0);
    ix.add(2, "d", 0, 1n, T0 + 3, 60_000);
    ix.add(3, "e", 0, 0n, T0 + 4, 60_000);
    expect(fullCalls()).toBe(1);
    expect(ix.size).toBe(3);
    const now = T0 + 5;
    expect(["1/a", "2/b", "1/c", "2/d", "3/e"].filter((k) => ix.find(Number(k[0]), k.slice(2), 60_000, now))).toEqual([
      "1/c",
      "2/d",
      "3/e",
    ]);
  });

  it("stays within the cap over many adds across topics", () => {
    const { index: ix } = index(100);
    for (let i = 0; i < 10_000; i++) ix.add(i % 7, `m${i}`, 0, BigInt(i), T0 + i, 3_600_000);
    expect(ix.size).toBe(100);
    expect(ix.find(9_999 % 7, "m9999", 3_600_000, T0 + 10_000)).toBeDefined();
    expect(ix.find(9_899 % 7, "m9899", 3_600_000, T0 + 10_000)).toBeUndefined();
  });

  it("forgets a topic's entries on clear() and dropTopic(), leaving other topics'", () => {
    const { index: ix } = index();
    ix.add(1, "a", 0, 0n, T0, WINDOW);
    ix.add(2, "a", 0, 0n, T0, WINDOW);
    ix.add(3, "a", 0, 0n, T0, WINDOW);
    ix.clear(1);
    ix.dropTopic(2);
    expect(ix.find(1, "a", WINDOW, T0)).toBeUndefined();
    expect(ix.find(2, "a", WINDOW, T0)).toBeUndefined();
    expect(ix.find(3, "a", WINDOW, T0)).toBeDefined();
    expect(ix.size).toBe(1);
  });

  it("tracks which stored entries may still need deleting", () => {
    const { index: ix } = index();
    expect(ix.mayHoldStoredBefore(1, T0)).toBe(false);
    ix.assumeStored(1);
    expect(ix.mayHoldStoredBefore(1, T0)).toBe(true);
    ix.storedDeletedBefore(1, T0);
    expect(ix.mayHoldStoredBefore(1, T0 + 1)).toBe(false);
    ix.add(1, "a", 0, 0n, T0 + 10, WINDOW);
    expect(ix.mayHoldStoredBefore(1, T0 + 10)).toBe(false);
    expect(ix.mayHoldStoredBefore(1, T0 + 11)).toBe(true);
    // Deleting up to a time before the newest entry leaves the newer ones stored.
    ix.storedDeletedBefore(1, T0 + 5);
    expect(ix.mayHoldStoredBefore(1, T0 + 11)).toBe(true);
    ix.storedDeletedBefore(1, T0 + 11);
    expect(ix.mayHoldStoredBefore(1, Number.MAX_SAFE_INTEGER)).toBe(false);
  });

  it("restores the stored entries still inside their topic's window, oldest first under the cap", async () => {
    const storage = new MemoryStorage();
    await storage.open();
    await storage
      .batch()
      .putDedupe(1, "old", 0, 0n, T0 - 2000)
      .putDedupe(1, "a", 0, 1n, T0 - 500)
      .putDedupe(2, "b", 1, 5n, T0 - 400)
      .putDedupe(2, "c", 1, 6n, T0 - 300)
      .putDedupe(3, "off", 0, 0n, T0)
      .write({ sync: false });
    const { index: ix } = index(2);
    const topics = [topic(1, { dedupeWindowMs: WINDOW }), topic(2, { dedupeWindowMs: WINDOW }), topic(3, { dedupeWindowMs: 0 })];
    await restoreDedupe(ix, storage, topics, T0);
    expect(ix.find(1, "old", WINDOW, T0)).toBeUndefined();
    expect(ix.find(1, "a", WINDOW, T0)).toBeUndefined(); // evicted: the oldest under a cap of 2
    expect(ix.find(2, "b", WINDOW, T0)).toMatchObject({ partition: 1, offset: 5n });
    expect(ix.find(2, "c", WINDOW, T0)).toMatchObject({ partition: 1, offset: 6n });
    expect(ix.find(3, "off", WINDOW, T0)).toBeUndefined();
    expect(ix.mayHoldStoredBefore(3, T0)).toBe(true);
  });
});
