/** The conformance suite's tests of dedupe entries. */

import { describe, expect, it } from "vitest";
import type { DedupeRecord } from "../../src/storage/storage.js";
import { TWO_POW_53, expectStorageError, topic, type ContractContext } from "./storage-contract-helpers.js";

const T0 = 1_700_000_000_000;

/** A dedupe entry with defaults. */
function entry(topicId: number, messageId: string, timeMs: number, offset = 0n, partition = 0): DedupeRecord {
  return { topicId, messageId, partition, offset, timeMs };
}

/** Registers the dedupe tests of the conformance suite. */
export function dedupeContract({ storage, reopen }: ContractContext, persistent: boolean): void {
  async function put(...entries: DedupeRecord[]): Promise<void> {
    const batch = storage().batch();
    for (const e of entries) batch.putDedupe(e.topicId, e.messageId, e.partition, e.offset, e.timeMs);
    await batch.write({ sync: false });
  }

  describe("dedupe entries", () => {
    it("loads nothing from new storage, or when no topic is asked for", async () => {
      expect(await storage().loadDedupe(new Map([[1, 0]]))).toEqual([]);
      await put(entry(1, "a", T0));
      expect(await storage().loadDedupe(new Map())).toEqual([]);
    });

    it("loads the entries of the topics asked for, from their times on, by topic and then time", async () => {
      await put(entry(2, "late", T0 + 20, 7n, 3), entry(1, "b", T0 + 5), entry(2, "early", T0 + 10, 2n ** 63n, 1));
      await put(entry(1, "a", T0 + 1), entry(3, "other", T0), entry(2, "too-old", T0 + 9));
      const loaded = await storage().loadDedupe(new Map([
        [2, T0 + 10],
        [1, 0],
      ]));
      expect(loaded).toEqual([
        entry(1, "a", T0 + 1),
        entry(1, "b", T0 + 5),
        entry(2, "early", T0 + 10, 2n ** 63n, 1),
        entry(2, "late", T0 + 20, 7n, 3),
      ]);
    });

    it("writes entries with the batch: nothing before write(), and one operation each", async () => {
      const batch = storage().batch().appendRecord(1, 0, 0n, new Uint8Array(1)).putDedupe(1, "m", 0, 0n, T0);
      expect(batch.length).toBe(2);
      expect(await storage().loadDedupe(new Map([[1, 0]]))).toEqual([]);
      await batch.write({ sync: true });
      expect(await storage().loadDedupe(new Map([[1, 0]]))).toEqual([entry(1, "m", T0)]);
    });

    it("keeps ids apart exactly, whatever their characters and length, and replaces an entry put again", async () => {
      const ids = ["x", "ünïcødé 🚀", "a\u0000b", "k".repeat(10_000)];
      await put(...ids.map((id, i) => entry(1, id, T0, BigInt(i))));
      await put(entry(1, "x", T0, 99n, 2));
      const loaded = await storage().loadDedupe(new Map([[1, 0]]));
      expect(new Map(loaded.map((e) => [e.messageId, [e.partition, e.offset]]))).toEqual(
        new Map([
          ["x", [2, 99n]],
          ["ünïcødé 🚀", [0, 1n]],
          ["a\u0000b", [0, 2n]],
          ["k".repeat(10_000), [0, 3n]],
        ]),
      );
    });

    it("deletes a topic's entries older than a time, keeping newer ones and other topics'", async () => {
      await put(entry(1, "a", T0), entry(1, "b", T0 + 10), entry(1, "c", T0 + 20), entry(2, "a", T0));
      await storage().deleteDedupe(1, T0 + 10);
      const since = new Map([
        [1, 0],
        [2, 0],
      ]);
      expect((await storage().loadDedupe(since)).map((e) => `${e.topicId}/${e.messageId}`)).toEqual(["1/b", "1/c", "2/a"]);
      await storage().deleteDedupe(1, Number.MAX_SAFE_INTEGER);
      expect((await storage().loadDedupe(since)).map((e) => `${e.topicId}/${e.messageId}`)).toEqual(["2/a"]);
    });

    it("deletes more entries than one step holds", async () => {
      for (let i = 0; i < 25_000; i += 5000) {
        await put(...Array.from({ length: 5000 }, (_, k) => entry(1, `m${i + k}`, T0 + i + k)));
      }
      await storage().deleteDedupe(1, T0 + 24_990);
      expect((await storage().loadDedupe(new Map([[1, 0]]))).map((e) => e.messageId)).toEqual(
        Array.from({ length: 10 }, (_, k) => `m${24_990 + k}`),
      );
    });

    it("purges a deleted topic's entries", async () => {
      await storage().batch().putTopic(topic(1)).putTopic(topic(2)).write({ sync: false });
      await put(entry(1, "a", T0), entry(2, "a", T0));
      await storage().batch().deleteTopic(1).write({ sync: false });
      await storage().purgeDeleted();
      const loaded = await storage().loadDedupe(new Map([
        [1, 0],
        [2, 0],
      ]));
      expect(loaded).toEqual([entry(2, "a", T0)]);
    });

    it("refuses an empty id, a bad time or a bad position with RangeError", async () => {
      const batch = storage().batch();
      expect(() => batch.putDedupe(1, "", 0, 0n, T0)).toThrow(RangeError);
      expect(() => batch.putDedupe(1, "m", 0, 0n, -1)).toThrow(RangeError);
      expect(() => batch.putDedupe(1, "m", 0, 0n, 1.5)).toThrow(RangeError);
      expect(() => batch.putDedupe(1, "m", -1, 0n, T0)).toThrow(RangeError);
      expect(() => batch.putDedupe(1, "m", 0, -1n, T0)).toThrow(RangeError);
      expect(() => batch.putDedupe(2 ** 32, "m", 0, 0n, T0)).toThrow(RangeError);
      expect(batch.length).toBe(0);
      await expect(storage().loadDedupe(new Map([[1, -5]]))).rejects.toThrow(RangeError);
      await expect(storage().deleteDedupe(1, Number.NaN)).rejects.toThrow(RangeError);
    });

    it("rejects loading and deleting with unavailable once closed", async () => {
      await storage().close();
      await expectStorageError(storage().loadDedupe(new Map([[1, 0]])), "unavailable");
      await expectStorageError(storage().deleteDedupe(1, T0), "unavailable");
    });

    if (persistent) {
      it("keeps entries across close and open", async () => {
        await put(entry(1, "a", T0, 5n, 2), entry(1, "b", Number(TWO_POW_53) - 1));
        await reopen();
        expect(await storage().loadDedupe(new Map([[1, 0]]))).toEqual([
          entry(1, "a", T0, 5n, 2),
          entry(1, "b", Number(TWO_POW_53) - 1),
        ]);
      });
    }
  });
}
