/**
 * The conformance suite's tests of log records: appends, reads, bounds and
 * the purge of deleted topics.
 */

import { describe, expect, it } from "vitest";
import type { StoredRecord } from "../../src/storage/storage.js";
import {
  MAX_U64,
  TWO_POW_53,
  appendRecords,
  bytes,
  range,
  text,
  topic,
  type ContractContext,
} from "./storage-contract-helpers.js";

/** `[offset, text]` pairs, for readable assertions. */
function pairs(records: readonly StoredRecord[]): [bigint, string | undefined][] {
  return records.map((r) => [r.offset, text(r.value)]);
}

/** Registers the record tests of the conformance suite. */
export function recordContract({ storage }: ContractContext): void {
  describe("records", () => {
    it("reads no records, bounds {0, 0} and no values from a partition that never held one", async () => {
      expect(await storage().readRecords(1, 0, 0n, 100, 1_000_000)).toEqual([]);
      expect(await storage().partitionBounds(1, 0)).toEqual({ start: 0n, end: 0n });
      expect(await storage().getRecords(1, 0, [0n, 1n])).toEqual([undefined, undefined]);
    });

    it("reads records back in offset order whatever order they were appended in", async () => {
      await appendRecords(storage(), 1, 0, [3n, 0n, 2n, 1n, 256n, 65_536n]);
      expect(pairs(await storage().readRecords(1, 0, 0n, 100, 1_000_000))).toEqual([
        [0n, "1/0/0"],
        [1n, "1/0/1"],
        [2n, "1/0/2"],
        [3n, "1/0/3"],
        [256n, "1/0/256"],
        [65_536n, "1/0/65536"],
      ]);
    });

    it("reads from an offset in the middle, between two records, or past the end", async () => {
      await appendRecords(storage(), 1, 0, [10n, 20n, 30n]);
      expect(pairs(await storage().readRecords(1, 0, 20n, 100, 1_000_000)).map(([o]) => o)).toEqual([20n, 30n]);
      expect(pairs(await storage().readRecords(1, 0, 11n, 100, 1_000_000)).map(([o]) => o)).toEqual([20n, 30n]);
      expect(await storage().readRecords(1, 0, 31n, 100, 1_000_000)).toEqual([]);
    });

    it("stops after maxRecords records", async () => {
      await appendRecords(storage(), 1, 0, range(0n, 3000n));
      const records = await storage().readRecords(1, 0, 5n, 2500, 100_000_000);
      expect(records).toHaveLength(2500);
      expect(records[0]?.offset).toBe(5n);
      expect(records[2499]?.offset).toBe(2504n);
      expect(await storage().readRecords(1, 0, 0n, 1, 100_000_000)).toHaveLength(1);
    });

    it("returns records whose values add up to at most maxBytes", async () => {
      const batch = storage().batch();
      for (const offset of range(0n, 10n)) batch.appendRecord(1, 0, offset, new Uint8Array(10));
      await batch.write({ sync: false });
      expect(await storage().readRecords(1, 0, 0n, 100, 25)).toHaveLength(2);
      expect(await storage().readRecords(1, 0, 0n, 100, 30)).toHaveLength(3);
      expect(await storage().readRecords(1, 0, 0n, 100, Infinity)).toHaveLength(10);
    });

    it("returns one record when it alone exceeds maxBytes", async () => {
      const batch = storage().batch();
      batch.appendRecord(1, 0, 0n, new Uint8Array(5000)).appendRecord(1, 0, 1n, new Uint8Array(1));
      await batch.write({ sync: false });
      const records = await storage().readRecords(1, 0, 0n, 100, 10);
      expect(records.map((r) => [r.offset, r.value.byteLength])).toEqual([[0n, 5000]]);
    });

    it("keeps partitions and topics apart", async () => {
      await appendRecords(storage(), 1, 1, [0n, 1n, 2n]);
      await appendRecords(storage(), 1, 2, [5n, 6n]);
      await appendRecords(storage(), 1, 3, [0n, 1n, 2n, 3n]);
      await appendRecords(storage(), 2, 2, [0n, 7n, 8n, 9n]);
      await appendRecords(storage(), 0, 2, [100n]);
      expect(pairs(await storage().readRecords(1, 2, 0n, 100, 1_000_000))).toEqual([
        [5n, "1/2/5"],
        [6n, "1/2/6"],
      ]);
      expect(await storage().partitionBounds(1, 2)).toEqual({ start: 5n, end: 7n });
      expect(await storage().partitionBounds(1, 4)).toEqual({ start: 0n, end: 0n });
      expect(await storage().partitionBounds(2, 1)).toEqual({ start: 0n, end: 0n });
      expect(await storage().readRecords(1, 0, 0n, 100, 1_000_000)).toEqual([]);
      expect(await storage().readRecords(1, 2, 7n, 100, 1_000_000)).toEqual([]);
      expect((await storage().getRecords(1, 2, [0n, 5n, 7n])).map(text)).toEqual([undefined, "1/2/5", undefined]);
    });

    it("keeps the largest ids and offsets apart from their neighbours", async () => {
      const top = 2 ** 32 - 1;
      await appendRecords(storage(), top, top, [0n, MAX_U64 - 1n]);
      await appendRecords(storage(), top, top - 1, [MAX_U64 - 1n]);
      await appendRecords(storage(), top - 1, top, [1n]);
      expect(await storage().partitionBounds(top, top)).toEqual({ start: 0n, end: MAX_U64 });
      expect(pairs(await storage().readRecords(top, top, 1n, 10, 1000))).toEqual([
        [MAX_U64 - 1n, `${top}/${top}/${MAX_U64 - 1n}`],
      ]);
      expect(await storage().partitionBounds(top - 1, top)).toEqual({ start: 1n, end: 2n });
    });

    it("round-trips and orders offsets above 2^53 exactly", async () => {
      const offsets = [TWO_POW_53 - 1n, TWO_POW_53, TWO_POW_53 + 1n, 2n ** 60n + 3n, 2n ** 63n + 1n];
      await appendRecords(storage(), 1, 0, [...offsets].reverse());
      const records = await storage().readRecords(1, 0, TWO_POW_53 - 1n, 100, 1_000_000);
      expect(pairs(records)).toEqual(offsets.map((o) => [o, `1/0/${o}`]));
      expect(pairs(await storage().readRecords(1, 0, TWO_POW_53 + 1n, 1, 1_000_000))).toEqual([
        [TWO_POW_53 + 1n, `1/0/${TWO_POW_53 + 1n}`],
      ]);
      expect(await storage().partitionBounds(1, 0)).toEqual({ start: TWO_POW_53 - 1n, end: 2n ** 63n + 2n });
    });

    it("replaces a record appended again at the same offset", async () => {
      await appendRecords(storage(), 1, 0, [0n, 1n]);
      await storage().batch().appendRecord(1, 0, 1n, bytes("again")).write({ sync: false });
      expect(pairs(await storage().readRecords(1, 0, 0n, 10, 1000))).toEqual([
        [0n, "1/0/0"],
        [1n, "again"],
      ]);
    });

    it("replaces only the records appended again, in the middle of a run, and keeps those around them", async () => {
      await appendRecords(storage(), 1, 0, range(0n, 10n));
      await storage().batch().appendRecord(1, 0, 4n, bytes("x")).appendRecord(1, 0, 3n, bytes("y")).write({ sync: false });
      const expected = range(0n, 10n).map((o) => [o, o === 3n ? "y" : o === 4n ? "x" : `1/0/${o}`]);
      expect(pairs(await storage().readRecords(1, 0, 0n, 100, Infinity))).toEqual(expected);
      expect((await storage().getRecords(1, 0, [4n, 3n, 5n])).map(text)).toEqual(["x", "y", "1/0/5"]);
      expect(await storage().partitionBounds(1, 0)).toEqual({ start: 0n, end: 10n });
    });

    it("writes records of several partitions and topics, mixed with metadata, each under its own key in one batch", async () => {
      const big = 2n ** 60n + 3n;
      await storage()
        .batch()
        .appendRecord(1, 0, 0n, bytes("a"))
        .appendRecord(1, 1, 5n, bytes("b"))
        .putTopic(topic(3))
        .appendRecord(2, 0, big, bytes("c"))
        .appendRecord(1, 0, 1n, bytes("d"))
        .appendRecord(1, 0, 1n, bytes("e"))
        .write({ sync: false });
      expect(pairs(await storage().readRecords(1, 0, 0n, 10, 1000))).toEqual([
        [0n, "a"],
        [1n, "e"],
      ]);
      expect(pairs(await storage().readRecords(1, 1, 0n, 10, 1000))).toEqual([[5n, "b"]]);
      expect(pairs(await storage().readRecords(2, 0, 0n, 10, 1000))).toEqual([[big, "c"]]);
      expect((await storage().load()).topics.map((t) => t.id)).toEqual([3]);
    });

    it("gets values at the offsets asked, in that order, undefined where none exists", async () => {
      await appendRecords(storage(), 1, 0, [0n, 1n, 2n, TWO_POW_53 + 1n]);
      const values = await storage().getRecords(1, 0, [2n, 9n, 0n, 2n, TWO_POW_53 + 1n, TWO_POW_53]);
      expect(values.map(text)).toEqual(["1/0/2", undefined, "1/0/0", "1/0/2", `1/0/${TWO_POW_53 + 1n}`, undefined]);
      expect(await storage().getRecords(1, 0, [])).toEqual([]);
    });

    it("stores what a value held at write(), unaffected by later mutation of either copy", async () => {
      const value = bytes("original");
      const batch = storage().batch().appendRecord(1, 0, 0n, value);
      await batch.write({ sync: false });
      value.fill(0);
      const [read] = await storage().readRecords(1, 0, 0n, 1, 1000);
      read?.value.fill(0);
      const [got] = await storage().getRecords(1, 0, [0n]);
      got?.fill(0);
      expect(text((await storage().readRecords(1, 0, 0n, 1, 1000))[0]?.value)).toBe("original");
      expect(text((await storage().getRecords(1, 0, [0n]))[0])).toBe("original");
    });

    it("rejects invalid reads with RangeError", async () => {
      await expect(storage().readRecords(1, 0, 0n, 0, 1000)).rejects.toThrow(RangeError);
      await expect(storage().readRecords(1, 0, 0n, 1.5, 1000)).rejects.toThrow(RangeError);
      await expect(storage().readRecords(1, 0, 0n, 10, 0)).rejects.toThrow(RangeError);
      await expect(storage().readRecords(1, 0, -1n, 10, 10)).rejects.toThrow(RangeError);
      await expect(storage().getRecords(1, 0, [-1n])).rejects.toThrow(RangeError);
      await expect(storage().partitionBounds(-1, 0)).rejects.toThrow(RangeError);
    });
  });

  describe("deleted topics", () => {
    it("purges a deleted topic's records and keeps the records of the topics beside it", async () => {
      for (const id of [1, 2, 3]) {
        await storage().batch().putTopic(topic(id)).write({ sync: false });
        for (const partition of [0, 1]) await appendRecords(storage(), id, partition, range(0n, 50n));
      }
      await storage().batch().deleteTopic(2).write({ sync: true });
      await storage().purgeDeleted();
      for (const partition of [0, 1]) {
        expect(await storage().partitionBounds(2, partition)).toEqual({ start: 0n, end: 0n });
        expect(await storage().readRecords(2, partition, 0n, 100, 1_000_000)).toEqual([]);
        expect(await storage().getRecords(2, partition, [0n, 49n])).toEqual([undefined, undefined]);
        for (const kept of [1, 3]) {
          expect(await storage().partitionBounds(kept, partition)).toEqual({ start: 0n, end: 50n });
          expect(await storage().readRecords(kept, partition, 0n, 100, 1_000_000)).toHaveLength(50);
        }
      }
      expect((await storage().load()).topics.map((t) => t.id)).toEqual([1, 3]);
    });

    it("purges more records than fit in one step", async () => {
      for (let from = 0n; from < 25_000n; from += 5000n) await appendRecords(storage(), 4, 0, range(from, from + 5000n));
      await appendRecords(storage(), 5, 0, [0n]);
      await storage().batch().deleteTopic(4).write({ sync: false });
      await storage().purgeDeleted();
      expect(await storage().partitionBounds(4, 0)).toEqual({ start: 0n, end: 0n });
      expect(await storage().partitionBounds(5, 0)).toEqual({ start: 0n, end: 1n });
    });

    it("purges safely again, and when nothing was deleted", async () => {
      await storage().purgeDeleted();
      await appendRecords(storage(), 1, 0, [0n]);
      await storage().batch().deleteTopic(1).write({ sync: false });
      await storage().purgeDeleted();
      await storage().purgeDeleted();
      expect(await storage().partitionBounds(1, 0)).toEqual({ start: 0n, end: 0n });
    });
  });
}
