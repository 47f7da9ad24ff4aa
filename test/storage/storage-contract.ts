/**
 * The conformance suite every {@link Storage} implementation runs: its own
 * test file calls {@link storageContract} once.
 */

import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Storage } from "../../src/storage/storage.js";
import {
  MAX_U64,
  TWO_POW_53,
  appendRecords,
  expectStorageError,
  group,
  range,
  text,
  topic,
  type ContractContext,
  type StorageFixture,
} from "./storage-contract-helpers.js";
import { dedupeSnapshotContract } from "./storage-contract-dedupe-snapshot.js";
import { recordContract } from "./storage-contract-records.js";
import { retentionContract } from "./storage-contract-retention.js";

export type { StorageFixture } from "./storage-contract-helpers.js";

/** What an implementation can do beyond the contract, declared as data. */
export interface StorageCapabilities {
  /** Survives close and open (fixture has `reopen`). */
  readonly persistent: boolean;
  /** Can be made to fail its next write (fixture has `failNextWrite`). */
  readonly failureInjection: boolean;
}

/**
 * Registers the conformance suite for one implementation. `make` is called
 * before every test and must return an opened storage over empty data; its
 * `cleanup` runs after the test, whatever happened. Tests that need a
 * capability are registered only for implementations that declare it, so no
 * test is ever skipped at run time.
 */
export function storageContract(name: string, capabilities: StorageCapabilities, make: () => Promise<StorageFixture>): void {
  describe(`${name} storage contract`, () => {
    let fixture: StorageFixture | undefined;
    let current: Storage | undefined;
    const ctx: ContractContext = {
      fixture: () => fixture!,
      storage: () => current!,
      reopen: async () => (current = await fixture!.reopen!()),
    };

    beforeEach(async () => {
      fixture = await make();
      current = fixture.storage;
    });
    afterEach(async () => {
      await fixture?.cleanup();
      fixture = current = undefined;
    });

    metadataContract(ctx);
    groupStateContract(ctx);
    batchContract(ctx, capabilities);
    recordContract(ctx);
    retentionContract(ctx, capabilities.persistent);
    dedupeSnapshotContract(ctx, capabilities.persistent);
    lifecycleContract(ctx, capabilities);
  });
}

function metadataContract({ storage }: ContractContext): void {
  describe("metadata", () => {
    it("loads empty state, with both id counters at 1, from new storage", async () => {
      const state = await storage().load();
      expect(state).toEqual({ topics: [], groups: [], groupPartitions: new Map(), nextTopicId: 1, nextGroupId: 1 });
    });

    it("loads the topics and groups it stored, in id order", async () => {
      const big = topic(2, { retentionMaxBytes: 2n ** 60n + 1n, retentionMaxAgeMs: 86_400_000, name: "ünïcødé" });
      await storage().batch().putTopic(big).putTopic(topic(1)).putGroup(group(7, 2)).putGroup(group(3, 1)).write({ sync: true });
      const state = await storage().load();
      expect(state.topics).toEqual([topic(1), big]);
      expect(state.groups).toEqual([group(3, 1), group(7, 2)]);
    });

    it("replaces a topic or group put again under the same id", async () => {
      await storage().batch().putTopic(topic(1)).putGroup(group(1, 1)).write({ sync: false });
      await storage().batch().putTopic(topic(1, { partitions: 9 })).putGroup(group(1, 1, { name: "g" })).write({ sync: false });
      const state = await storage().load();
      expect(state.topics).toEqual([topic(1, { partitions: 9 })]);
      expect(state.groups).toEqual([group(1, 1, { name: "g" })]);
    });

    it("loads the next ids it stored last", async () => {
      await storage().batch().setNextIds(5, 9).write({ sync: false });
      await storage().batch().setNextIds(6, 10).write({ sync: false });
      expect(await storage().load()).toMatchObject({ nextTopicId: 6, nextGroupId: 10 });
    });

    it("forgets a deleted topic's metadata and keeps the others", async () => {
      await storage().batch().putTopic(topic(1)).putTopic(topic(2)).write({ sync: false });
      await storage().batch().deleteTopic(1).write({ sync: false });
      expect((await storage().load()).topics).toEqual([topic(2)]);
    });

    it("forgets a deleted group's metadata and partition states and keeps other groups'", async () => {
      const state = { committed: 5n, acked: [] };
      await storage()
        .batch()
        .putGroup(group(1, 1))
        .putGroup(group(2, 1))
        .putGroupPartition(1, 0, state)
        .putGroupPartition(1, 2, state)
        .putGroupPartition(2, 0, state)
        .write({ sync: false });
      await storage().batch().deleteGroup(1, 3).write({ sync: false });
      const loaded = await storage().load();
      expect(loaded.groups).toEqual([group(2, 1)]);
      expect([...loaded.groupPartitions.keys()]).toEqual(["2/0"]);
    });

    it("refuses metadata it could not load back, with RangeError", () => {
      const batch = storage().batch();
      expect(() => batch.putTopic(topic(-1))).toThrow(RangeError);
      expect(() => batch.putTopic(topic(1, { partitions: 1.5 }))).toThrow(RangeError);
      expect(() => batch.putTopic(topic(1, { retentionMaxBytes: -1n }))).toThrow(RangeError);
      expect(() => batch.putGroup(group(1, 2 ** 32))).toThrow(RangeError);
      expect(() => batch.setNextIds(-1, 1)).toThrow(RangeError);
      expect(batch.length).toBe(0);
    });
  });
}

function groupStateContract({ storage }: ContractContext): void {
  describe("group partition state", () => {
    it("round-trips a state without acked ranges, keyed by group and partition", async () => {
      await storage().batch().putGroupPartition(3, 7, { committed: 0n, acked: [] }).write({ sync: false });
      const loaded = await storage().load();
      expect(loaded.groupPartitions).toEqual(new Map([["3/7", { committed: 0n, acked: [] }]]));
    });

    it("round-trips many acked ranges with offsets above 2^53", async () => {
      const committed = TWO_POW_53 + 1n;
      const acked = Array.from({ length: 2000 }, (_, i) => {
        const start = committed + 2n + BigInt(i) * 10n;
        return [start, start + 3n] as const;
      });
      acked.push([MAX_U64 - 5n, MAX_U64]);
      await storage().batch().putGroupPartition(1, 0, { committed, acked }).write({ sync: false });
      expect((await storage().load()).groupPartitions.get("1/0")).toEqual({ committed, acked });
    });

    it("replaces a partition's state and keeps other partitions' states", async () => {
      await storage()
        .batch()
        .putGroupPartition(1, 0, { committed: 1n, acked: [[3n, 4n]] })
        .putGroupPartition(1, 1, { committed: 2n, acked: [] })
        .write({ sync: false });
      await storage().batch().putGroupPartition(1, 0, { committed: 10n, acked: [] }).write({ sync: false });
      const loaded = await storage().load();
      expect(loaded.groupPartitions.get("1/0")).toEqual({ committed: 10n, acked: [] });
      expect(loaded.groupPartitions.get("1/1")).toEqual({ committed: 2n, acked: [] });
    });

    it("refuses acked ranges that are empty, unsorted, overlapping, adjacent or not above committed", () => {
      const batch = storage().batch();
      const bad: [bigint, bigint][][] = [
        [[5n, 5n]],
        [
          [8n, 9n],
          [5n, 6n],
        ],
        [
          [5n, 8n],
          [7n, 9n],
        ],
        [
          [5n, 6n],
          [6n, 7n],
        ],
        [[4n, 6n]],
        [[3n, 6n]],
        [[5n, MAX_U64 + 1n]],
      ];
      for (const acked of bad) {
        expect(() => batch.putGroupPartition(1, 0, { committed: 4n, acked })).toThrow(RangeError);
      }
      expect(() => batch.putGroupPartition(1, 0, { committed: -1n, acked: [] })).toThrow(RangeError);
    });
  });
}

function batchContract({ storage, fixture }: ContractContext, capabilities: StorageCapabilities): void {
  describe("batches", () => {
    it("applies nothing before write() and everything after it", async () => {
      const batch = storage()
        .batch()
        .putTopic(topic(1))
        .appendRecord(1, 0, 0n, new Uint8Array([1]))
        .putGroupPartition(1, 0, { committed: 1n, acked: [] })
        .setNextIds(2, 2);
      expect((await storage().load()).topics).toEqual([]);
      expect(await storage().readRecords(1, 0, 0n, 10, 1000)).toEqual([]);
      await batch.write({ sync: true });
      const state = await storage().load();
      expect(state.topics).toEqual([topic(1)]);
      expect(state.groupPartitions.get("1/0")).toEqual({ committed: 1n, acked: [] });
      expect(state.nextTopicId).toBe(2);
      expect(await storage().partitionBounds(1, 0)).toEqual({ start: 0n, end: 1n });
    });

    if (capabilities.failureInjection) it("applies none of a failed write's operations", async () => {
      fixture().failNextWrite!("full");
      await expectStorageError(
        storage().batch().putTopic(topic(1)).appendRecord(1, 0, 0n, new Uint8Array([1])).write({ sync: true }),
        "full",
      );
      expect((await storage().load()).topics).toEqual([]);
      expect(await storage().partitionBounds(1, 0)).toEqual({ start: 0n, end: 0n });
    });

    it("counts one operation per builder call", () => {
      const batch = storage().batch();
      expect(batch.length).toBe(0);
      batch.appendRecord(1, 0, 0n, new Uint8Array(1)).deleteTopic(2).deleteGroup(3, 8).setNextIds(1, 1);
      expect(batch.length).toBe(4);
    });

    it("writes an empty batch", async () => {
      await storage().batch().write({ sync: true });
      expect((await storage().load()).topics).toEqual([]);
    });

    it("refuses to be written or extended after it was written", async () => {
      const batch = storage().batch().setNextIds(2, 2);
      await batch.write({ sync: false });
      await expect(batch.write({ sync: false })).rejects.toThrow(/already written/);
      expect(() => batch.putTopic(topic(1))).toThrow(/already written/);
    });

    it("refuses invalid ids and offsets with RangeError", () => {
      const batch = storage().batch();
      const value = new Uint8Array(1);
      expect(() => batch.appendRecord(-1, 0, 0n, value)).toThrow(RangeError);
      expect(() => batch.appendRecord(2 ** 32, 0, 0n, value)).toThrow(RangeError);
      expect(() => batch.appendRecord(0, 0.5, 0n, value)).toThrow(RangeError);
      expect(() => batch.appendRecord(0, 0, -1n, value)).toThrow(RangeError);
      expect(() => batch.appendRecord(0, 0, MAX_U64 + 1n, value)).toThrow(RangeError);
      expect(() => batch.putGroupPartition(0, -1, { committed: 0n, acked: [] })).toThrow(RangeError);
      expect(batch.length).toBe(0);
    });
  });
}

function lifecycleContract({ storage, fixture, reopen }: ContractContext, capabilities: StorageCapabilities): void {
  describe("lifecycle", () => {
    it("closes idempotently and rejects every operation with unavailable once closed", async () => {
      const batch = storage().batch().setNextIds(2, 2);
      await storage().close();
      await storage().close();
      await expectStorageError(storage().load(), "unavailable");
      await expectStorageError(storage().readRecords(1, 0, 0n, 1, 1), "unavailable");
      await expectStorageError(storage().getRecords(1, 0, [0n]), "unavailable");
      await expectStorageError(storage().partitionBounds(1, 0), "unavailable");
      await expectStorageError(storage().purgeDeleted(), "unavailable");
      await expectStorageError(batch.write({ sync: true }), "unavailable");
      await expectStorageError(storage().batch().setNextIds(3, 3).write({ sync: true }), "unavailable");
    });

    if (capabilities.persistent) it("keeps metadata, records and group states across close and open", async () => {
      const state = { committed: TWO_POW_53 + 3n, acked: [[TWO_POW_53 + 5n, TWO_POW_53 + 9n]] as const };
      await storage()
        .batch()
        .putTopic(topic(1, { retentionMaxBytes: 2n ** 62n }))
        .putGroup(group(1, 1))
        .putGroupPartition(1, 3, state)
        .setNextIds(2, 2)
        .write({ sync: true });
      await appendRecords(storage(), 1, 3, [0n, 1n, TWO_POW_53 + 7n]);
      await reopen();
      expect(await storage().load()).toEqual({
        topics: [topic(1, { retentionMaxBytes: 2n ** 62n })],
        groups: [group(1, 1)],
        groupPartitions: new Map([["1/3", state]]),
        nextTopicId: 2,
        nextGroupId: 2,
      });
      expect(await storage().partitionBounds(1, 3)).toEqual({ start: 0n, end: TWO_POW_53 + 8n });
      const records = await storage().readRecords(1, 3, 0n, 10, 1_000_000);
      expect(records.map((r) => [r.offset, text(r.value)])).toEqual([
        [0n, "1/3/0"],
        [1n, "1/3/1"],
        [TWO_POW_53 + 7n, `1/3/${TWO_POW_53 + 7n}`],
      ]);
    });

    if (capabilities.persistent) it("still purges a topic deleted before close and open", async () => {
      await appendRecords(storage(), 1, 0, range(0n, 10n));
      await storage().batch().putTopic(topic(1)).deleteTopic(1).write({ sync: true });
      await reopen();
      await storage().purgeDeleted();
      expect(await storage().partitionBounds(1, 0)).toEqual({ start: 0n, end: 0n });
    });
  });
}
