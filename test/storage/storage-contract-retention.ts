/**
 * The conformance suite's tests of what retention needs from storage:
 * deleting a partition's oldest records and measuring a partition.
 */

import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { Storage } from "../../src/storage/storage.js";
import { appendRecords, expectStorageError, range, type ContractContext } from "./storage-contract-helpers.js";

/** Appends `count` incompressible values of `size` bytes at offsets [0, count), in batches. */
async function appendRandom(storage: Storage, topicId: number, partition: number, count: number, size: number): Promise<void> {
  for (let from = 0; from < count; from += 500) {
    const batch = storage.batch();
    for (let o = from; o < Math.min(count, from + 500); o++) batch.appendRecord(topicId, partition, BigInt(o), randomBytes(size));
    await batch.write({ sync: false });
  }
}

/** Registers the retention tests of the conformance suite. */
export function retentionContract({ storage, reopen }: ContractContext, persistent: boolean): void {
  describe("deleting records", () => {
    it("removes the records in [from, to) and keeps those around them and in other partitions", async () => {
      await appendRecords(storage(), 1, 0, range(0n, 20n));
      await appendRecords(storage(), 1, 1, range(0n, 20n));
      await storage().deleteRecords(1, 0, 0n, 12n);
      expect(await storage().partitionBounds(1, 0)).toEqual({ start: 12n, end: 20n });
      expect((await storage().readRecords(1, 0, 0n, 100, Infinity)).map((r) => r.offset)).toEqual(range(12n, 20n));
      expect(await storage().getRecords(1, 0, [11n, 12n])).toEqual([undefined, expect.any(Uint8Array)]);
      expect(await storage().partitionBounds(1, 1)).toEqual({ start: 0n, end: 20n });
      await storage().deleteRecords(1, 0, 14n, 16n);
      expect((await storage().readRecords(1, 0, 0n, 100, Infinity)).map((r) => r.offset)).toEqual([12n, 13n, 16n, 17n, 18n, 19n]);
    });

    it("removes more records than one step holds, and offsets where nothing is stored", async () => {
      for (let from = 0n; from < 25_000n; from += 5000n) await appendRecords(storage(), 2, 0, range(from, from + 5000n));
      await appendRecords(storage(), 2, 0, [1_000_000n]);
      await storage().deleteRecords(2, 0, 0n, 999_999n);
      expect(await storage().partitionBounds(2, 0)).toEqual({ start: 1_000_000n, end: 1_000_001n });
    });

    it("removes nothing when from is not below to", async () => {
      await appendRecords(storage(), 1, 0, range(0n, 5n));
      await storage().deleteRecords(1, 0, 3n, 3n);
      await storage().deleteRecords(1, 0, 4n, 1n);
      expect(await storage().partitionBounds(1, 0)).toEqual({ start: 0n, end: 5n });
    });

    it("keeps the offsets of a log it emptied: bounds start and end where the deletion ended", async () => {
      await appendRecords(storage(), 1, 0, range(0n, 10n));
      await storage().deleteRecords(1, 0, 0n, 10n);
      expect(await storage().partitionBounds(1, 0)).toEqual({ start: 10n, end: 10n });
      await storage().deleteRecords(1, 0, 0n, 4n);
      expect(await storage().partitionBounds(1, 0)).toEqual({ start: 10n, end: 10n });
      await appendRecords(storage(), 1, 0, [10n, 11n]);
      expect(await storage().partitionBounds(1, 0)).toEqual({ start: 10n, end: 12n });
      await storage().deleteRecords(9, 9, 0n, 7n);
      expect(await storage().partitionBounds(9, 9)).toEqual({ start: 7n, end: 7n });
      expect(await storage().partitionBounds(9, 8)).toEqual({ start: 0n, end: 0n });
    });

    it("forgets the end of a deleted topic's partitions once purged", async () => {
      await appendRecords(storage(), 1, 0, range(0n, 3n));
      await storage().deleteRecords(1, 0, 0n, 3n);
      await storage().batch().deleteTopic(1).write({ sync: false });
      await storage().purgeDeleted();
      expect(await storage().partitionBounds(1, 0)).toEqual({ start: 0n, end: 0n });
    });

    it("rejects invalid ranges with RangeError", async () => {
      await expect(storage().deleteRecords(-1, 0, 0n, 1n)).rejects.toThrow(RangeError);
      await expect(storage().deleteRecords(1, 0, -1n, 1n)).rejects.toThrow(RangeError);
      await expect(storage().deleteRecords(1, 0, 0n, 2n ** 64n)).rejects.toThrow(RangeError);
      await expect(storage().partitionBytes(1, 0.5)).rejects.toThrow(RangeError);
    });

    it("rejects deleting and measuring with unavailable once closed", async () => {
      await storage().close();
      await expectStorageError(storage().deleteRecords(1, 0, 0n, 1n), "unavailable");
      await expectStorageError(storage().partitionBytes(1, 0), "unavailable");
    });
  });

  describe("partition size", () => {
    it("measures 0 bytes for a partition that never held a record", async () => {
      await appendRecords(storage(), 1, 1, range(0n, 10n));
      expect(await storage().partitionBytes(1, 0)).toBe(0);
      expect(await storage().partitionBytes(2, 1)).toBe(0);
    });

    // LevelDB counts only data in its files: reopening moves recent writes there.
    if (persistent) {
      it("keeps the end of an emptied log across close and open", async () => {
        await appendRecords(storage(), 1, 0, range(0n, 10n));
        await storage().deleteRecords(1, 0, 0n, 10n);
        await reopen();
        expect(await storage().partitionBounds(1, 0)).toEqual({ start: 10n, end: 10n });
      });

      it("measures about the bytes of the values, from any offset, and not the records removed before it", async () => {
        const count = 2000;
        const size = 1024;
        await appendRandom(storage(), 1, 0, count, size);
        await appendRandom(storage(), 1, 1, 100, size);
        await reopen();
        const total = count * size;
        const all = await storage().partitionBytes(1, 0);
        expect(all).toBeGreaterThanOrEqual(total * 0.95);
        expect(all).toBeLessThanOrEqual(total * 1.25);
        const half = await storage().partitionBytes(1, 0, BigInt(count / 2));
        expect(half).toBeGreaterThanOrEqual((total / 2) * 0.9);
        expect(half).toBeLessThanOrEqual((total / 2) * 1.25);
        await storage().deleteRecords(1, 0, 0n, BigInt(count / 2));
        await reopen();
        const rest = await storage().partitionBytes(1, 0, BigInt(count / 2));
        expect(rest).toBeGreaterThanOrEqual((total / 2) * 0.9);
        expect(rest).toBeLessThanOrEqual((total / 2) * 1.25);
      });
    }
  });
}
