/** The conformance suite's tests of the dedupe snapshot. */

import { describe, expect, it } from "vitest";
import type { Storage } from "../../src/storage/storage.js";
import { expectStorageError, type ContractContext } from "./storage-contract-helpers.js";

/** The snapshot's pieces joined, or `undefined` when it yields none. */
async function loaded(storage: Storage): Promise<Uint8Array | undefined> {
  const pieces: Uint8Array[] = [];
  // Copied: a piece is valid only until the next is asked for.
  for await (const piece of storage.readDedupeSnapshot()) pieces.push(piece.slice());
  return pieces.length === 0 ? undefined : new Uint8Array(Buffer.concat(pieces));
}

/** `n` bytes of a pattern that shows a misplaced chunk. */
function pattern(n: number, seed = 0): Uint8Array {
  const bytes = new Uint8Array(n);
  for (let i = 0; i < n; i++) bytes[i] = (i * 31 + seed + (i >> 20)) & 0xff;
  return bytes;
}

/** Whether `a` holds exactly the bytes of `b` (toEqual walks megabytes element by element). */
function sameBytes(a: Uint8Array | undefined, b: Uint8Array): boolean {
  return a !== undefined && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

/** Registers the dedupe snapshot tests of the conformance suite. */
export function dedupeSnapshotContract({ storage, reopen }: ContractContext, persistent: boolean): void {
  async function put(bytes: Uint8Array): Promise<void> {
    await storage().batch().putDedupeSnapshot(bytes).write({ sync: false });
  }

  describe("dedupe snapshot", () => {
    it("loads none from new storage", async () => {
      expect(await loaded(storage())).toBeUndefined();
    });

    it("is written with the batch: nothing before write(), and one operation", async () => {
      const batch = storage().batch().appendRecord(1, 0, 0n, new Uint8Array(1)).putDedupeSnapshot(pattern(10));
      expect(batch.length).toBe(2);
      expect(await loaded(storage())).toBeUndefined();
      await batch.write({ sync: true });
      expect(await loaded(storage())).toEqual(pattern(10));
      expect(await storage().readRecords(1, 0, 0n, 10, Infinity)).toHaveLength(1);
    });

    it("replaces the previous snapshot whatever the sizes, several MiB and empty included", async () => {
      const sizes = [3 * 1024 * 1024 + 17, 10, 5 * 1024 * 1024, 0, 1024 * 1024];
      for (const [i, n] of sizes.entries()) {
        await put(pattern(n, i));
        expect(sameBytes(await loaded(storage()), pattern(n, i)), `size ${n}`).toBe(true);
      }
    });

    it("copies the bytes when written, not when put", async () => {
      const bytes = pattern(100);
      const batch = storage().batch().putDedupeSnapshot(bytes);
      bytes[0] = 255;
      await batch.write({ sync: false });
      bytes[1] = 255;
      const read = await loaded(storage());
      expect(read![0]).toBe(255);
      expect(read![1]).toBe(pattern(100)[1]);
    });

    it("refuses something other than bytes with RangeError", () => {
      const batch = storage().batch();
      expect(() => batch.putDedupeSnapshot("nope" as unknown as Uint8Array)).toThrow(RangeError);
      expect(batch.length).toBe(0);
    });

    it("rejects loading with unavailable once closed", async () => {
      await storage().close();
      await expectStorageError(loaded(storage()), "unavailable");
    });

    if (persistent) {
      it("keeps the snapshot across close and open", async () => {
        await put(pattern(2 * 1024 * 1024 + 5, 7));
        await reopen();
        expect(sameBytes(await loaded(storage()), pattern(2 * 1024 * 1024 + 5, 7))).toBe(true);
      });
    }
  });
}
