/**
 * How LevelStorage lays out the log (format v2: packs of records under
 * 18-byte keys) and how it reads, deletes and upgrades a data directory
 * written by format v1 (one record per 17-byte key, in the same keyspace),
 * checked against the raw LevelDB keys.
 */

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ClassicLevel } from "classic-level";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FORMAT_KEY, isPackKey, logKeyOffset, packKey, partitionLogRange, recordKey } from "../../src/storage/level-keys.js";
import { LevelStorage } from "../../src/storage/level-storage.js";
import { PACK_MAX_BYTES, PACK_MAX_RECORDS } from "../../src/storage/record-pack.js";
import { MAX_U64, appendRecords, bytes, expectStorageError, range, text } from "./storage-contract-helpers.js";

type Db = ClassicLevel<Uint8Array, Uint8Array>;

let dir: string;
const opened: LevelStorage[] = [];

async function open(): Promise<LevelStorage> {
  const storage = new LevelStorage({ location: dir });
  opened.push(storage);
  await storage.open();
  return storage;
}

async function closeAll(): Promise<void> {
  await Promise.all(opened.splice(0).map((s) => s.close()));
}

/** Runs `fn` on the raw database (every storage closed). */
async function raw<T>(fn: (db: Db) => Promise<T>): Promise<T> {
  await closeAll();
  const db: Db = new ClassicLevel<Uint8Array, Uint8Array>(dir, { keyEncoding: "view", valueEncoding: "view" });
  await db.open();
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

/** The partition's log keys. */
async function logKeys(db: Db, topicId: number, partition: number): Promise<Uint8Array[]> {
  return db.keys(partitionLogRange(topicId, partition)).all();
}

/** The last offsets of the partition's packs, in key order. */
async function packKeys(db: Db, topicId: number, partition: number): Promise<bigint[]> {
  return (await logKeys(db, topicId, partition)).filter(isPackKey).map(logKeyOffset);
}

/** The offsets of the partition's v1 records, in key order. */
async function v1Keys(db: Db, topicId: number, partition: number): Promise<bigint[]> {
  return (await logKeys(db, topicId, partition)).filter((k) => !isPackKey(k)).map(logKeyOffset);
}

/** A data directory as format v1 wrote it: its marker and one record per key at `offsets` of topic 1 partition 0. */
async function writeV1(offsets: bigint[]): Promise<void> {
  const db: Db = new ClassicLevel<Uint8Array, Uint8Array>(dir, { keyEncoding: "view", valueEncoding: "view" });
  await db.open();
  await db.put(FORMAT_KEY, new TextEncoder().encode("sluice-storage-v1"));
  await db.batch(offsets.map((o) => ({ type: "put" as const, key: recordKey(1, 0, o), value: bytes(`v1/${o}`) })));
  await db.close();
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "sluice-packs-"));
});
afterEach(async () => {
  await closeAll();
  await rm(dir, { recursive: true, force: true });
});

describe("log packs", () => {
  it("writes a batch's run of one partition as packs of at most PACK_MAX_RECORDS records, keyed by their last offset", async () => {
    const storage = await open();
    const batch = storage.batch();
    for (let o = 0; o < 2500; o++) batch.appendRecord(1, 0, BigInt(o), bytes(`r${o}`));
    batch.appendRecord(1, 1, 7n, bytes("other partition"));
    await batch.write({ sync: false });
    const records = await storage.readRecords(1, 0, 1000n, 5000, Infinity);
    expect(records.map((r) => r.offset)).toEqual(range(1000n, 2500n));
    expect(text(records[0]!.value)).toBe("r1000");
    expect(await raw((db) => packKeys(db, 1, 0))).toEqual([BigInt(PACK_MAX_RECORDS - 1), BigInt(2 * PACK_MAX_RECORDS - 1), 2499n]);
  });

  it("starts a new pack at a gap in the offsets and past PACK_MAX_BYTES", async () => {
    const storage = await open();
    const big = new Uint8Array(PACK_MAX_BYTES / 2);
    await storage.batch().appendRecord(1, 0, 0n, big).appendRecord(1, 0, 1n, big).appendRecord(1, 0, 2n, big).appendRecord(1, 0, 9n, bytes("after a gap")).write({ sync: false });
    expect(await raw((db) => packKeys(db, 1, 0))).toEqual([1n, 2n, 9n]);
  });

  it("deletes a range inside one pack by rewriting it around the range, and across packs", async () => {
    const storage = await open();
    await appendRecords(storage, 1, 0, range(0n, 3000n));
    await storage.deleteRecords(1, 0, 10n, 20n);
    await storage.deleteRecords(1, 0, 1000n, 2100n);
    const offsets = (await storage.readRecords(1, 0, 0n, 5000, Infinity)).map((r) => r.offset);
    expect(offsets).toEqual([...range(0n, 10n), ...range(20n, 1000n), ...range(2100n, 3000n)]);
    expect(await raw((db) => packKeys(db, 1, 0))).toEqual([9n, 999n, 2999n]);
  });

  it("replaces records appended again after a reopen, as after a write that failed but reached the disk", async () => {
    await appendRecords(await open(), 1, 0, range(0n, 10n));
    await closeAll();
    const storage = await open();
    await storage.batch().appendRecord(1, 0, 5n, bytes("five")).appendRecord(1, 0, 6n, bytes("six")).write({ sync: false });
    const values = (await storage.readRecords(1, 0, 0n, 100, Infinity)).map((r) => text(r.value));
    expect(values).toEqual([...range(0n, 5n).map((o) => `1/0/${o}`), "five", "six", ...range(7n, 10n).map((o) => `1/0/${o}`)]);
    // The pack was split around them: [0, 4], [5, 6], [7, 9].
    expect(await raw((db) => packKeys(db, 1, 0))).toEqual([4n, 6n, 9n]);
  });

  it("replaces records at several places in one batch, split around them, before and after a reopen", async () => {
    const expected = (news: Record<string, string>) => range(0n, 21n).map((o) => news[String(o)] ?? `1/0/${o}`);
    await appendRecords(await open(), 1, 0, range(0n, 21n));
    const write = (storage: LevelStorage, news: Record<string, string>) => {
      const batch = storage.batch();
      for (const [o, v] of Object.entries(news)) batch.appendRecord(1, 0, BigInt(o), bytes(v));
      return batch.write({ sync: false });
    };
    await write(opened[0]!, { 5: "five", 10: "ten" });
    const values = async (s: LevelStorage) => (await s.readRecords(1, 0, 0n, 100, Infinity)).map((r) => text(r.value));
    expect(await values(opened[0]!)).toEqual(expected({ 5: "five", 10: "ten" }));
    await closeAll();
    const reopened = await open();
    await write(reopened, { 6: "six", 12: "twelve" });
    expect(await values(reopened)).toEqual(expected({ 5: "five", 6: "six", 10: "ten", 12: "twelve" }));
    expect((await reopened.getRecords(1, 0, [12n, 6n, 7n])).map(text)).toEqual(["twelve", "six", "1/0/7"]);
  });

  it("replaces a run longer than a pack appended again over several packs after a reopen", async () => {
    const storage = await open();
    await appendRecords(storage, 1, 0, range(0n, 10n));
    await appendRecords(storage, 1, 0, range(10n, 2000n));
    await closeAll();
    const reopened = await open();
    const batch = reopened.batch();
    for (let o = 0; o < 2000; o++) batch.appendRecord(1, 0, BigInt(o), bytes(`new${o}`));
    await batch.write({ sync: false });
    const records = await reopened.readRecords(1, 0, 0n, 5000, Infinity);
    expect(records.map((r) => text(r.value))).toEqual(range(0n, 2000n).map((o) => `new${o}`));
    expect((await reopened.getRecords(1, 0, [1024n, 1033n])).map(text)).toEqual(["new1024", "new1033"]);
  });

  it("replaces records appended again in several batches after a reopen, with or without the bounds read first", async () => {
    for (const readBounds of [false, true]) {
      await appendRecords(await open(), 1, 0, range(0n, 20n));
      await closeAll();
      const storage = await open();
      if (readBounds) expect(await storage.partitionBounds(1, 0)).toEqual({ start: 0n, end: 20n });
      for (const [from, to] of [[5, 10], [10, 15]] as const) {
        const batch = storage.batch();
        for (let o = from; o < to; o++) batch.appendRecord(1, 0, BigInt(o), bytes(`new${o}`));
        await batch.write({ sync: false });
      }
      const values = (await storage.readRecords(1, 0, 0n, 100, Infinity)).map((r) => text(r.value));
      expect(values).toEqual(range(0n, 20n).map((o) => (o >= 5n && o < 15n ? `new${o}` : `1/0/${o}`)));
      await closeAll();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("cuts a pack for retention and replaces records of the same pack in a batch at once without losing or repeating any", async () => {
    const tick = () => new Promise((resolve) => setImmediate(resolve));
    for (let round = 0; round < 48; round++) {
      const storage = await open();
      await appendRecords(storage, 1, round, range(0n, 1000n));
      const batch = storage.batch();
      for (let o = 990n; o < 1000n; o++) batch.appendRecord(1, round, o, bytes(`new${o}`));
      // The batch starts at different points of the cut, which reads and writes over several turns.
      const cut = storage.deleteRecords(1, round, 0n, 500n);
      for (let i = 0; i < 3 + (round % 12); i++) await tick();
      await Promise.all([cut, batch.write({ sync: false })]);
      const records = await storage.readRecords(1, round, 0n, 5000, Infinity);
      expect(records.map((r) => r.offset)).toEqual(range(500n, 1000n));
      expect(records.slice(-10).map((r) => text(r.value))).toEqual(range(990n, 1000n).map((o) => `new${o}`));
      await closeAll();
    }
  });

  it("reads exactly what the limits allow across packs of very different record counts", async () => {
    // Packs of 1,024 tiny records, then packs of a few large ones, then tiny
    // again: a read that sizes its LevelDB calls from the packs it has seen
    // must still neither stop early nor skip or repeat a record.
    const sizes: number[] = [];
    for (let o = 0; o < 3000; o++) sizes.push(o >= 1500 && o < 1530 ? PACK_MAX_BYTES / 3 : 1 + (o % 7));
    const storage = await open();
    const batch = storage.batch();
    sizes.forEach((n, o) => batch.appendRecord(1, 0, BigInt(o), new Uint8Array(n).fill(o % 251)));
    await batch.write({ sync: false });
    for (const from of [0, 700, 1499, 1515, 1529, 2000]) {
      for (const [maxRecords, maxBytes] of [[1024, 1 << 20], [5000, 1 << 20], [2000, 100_000], [3, Infinity], [1, 1]]) {
        const got = await storage.readRecords(1, 0, BigInt(from), maxRecords!, maxBytes!);
        // What the contract says: in order from `from`, at most maxRecords,
        // values adding up to at most maxBytes, and at least one record.
        const want: number[] = [];
        let total = 0;
        for (let o = from; o < sizes.length && want.length < maxRecords!; o++) {
          if (want.length > 0 && total + sizes[o]! > maxBytes!) break;
          want.push(o);
          total += sizes[o]!;
        }
        expect(got.map((r) => Number(r.offset)), `from ${from}, ${maxRecords} records, ${maxBytes} bytes`).toEqual(want);
        for (const r of got) expect(r.value).toEqual(new Uint8Array(sizes[Number(r.offset)]!).fill(Number(r.offset) % 251));
      }
    }
  });

  it("reports a pack that does not parse as corrupt", async () => {
    await appendRecords(await open(), 1, 0, range(0n, 5n));
    await raw((db) => db.put(packKey(1, 0, 4n), Uint8Array.of(5, 200)));
    const storage = await open();
    const err = await expectStorageError(storage.readRecords(1, 0, 0n, 10, Infinity), "corrupt");
    expect(err.message).toMatch(/topic 1 partition 0 offsets up to 4/);
    await expectStorageError(storage.getRecords(1, 0, [2n]), "corrupt");
  });
});

describe("a data directory of format v1", () => {
  it("opens, upgrades the marker, and reads its records before the packs appended after them", async () => {
    await writeV1(range(0n, 5n));
    const storage = await open();
    expect(await storage.partitionBounds(1, 0)).toEqual({ start: 0n, end: 5n });
    await appendRecords(storage, 1, 0, range(5n, 8n));
    expect(await storage.partitionBounds(1, 0)).toEqual({ start: 0n, end: 8n });
    const all = await storage.readRecords(1, 0, 0n, 100, Infinity);
    expect(all.map((r) => [r.offset, text(r.value)])).toEqual([
      ...range(0n, 5n).map((o) => [o, `v1/${o}`]),
      ...range(5n, 8n).map((o) => [o, `1/0/${o}`]),
    ]);
    // Limits count across both: 3 records from offset 3 are two v1 records and a packed one.
    expect((await storage.readRecords(1, 0, 3n, 3, Infinity)).map((r) => r.offset)).toEqual([3n, 4n, 5n]);
    expect((await storage.getRecords(1, 0, [6n, 1n, 9n])).map(text)).toEqual(["1/0/6", "v1/1", undefined]);
    expect(text(await raw((db) => db.get(FORMAT_KEY)))).toBe("sluice-storage-v2");
  });

  it("deletes v1 records and packs across the boundary, and keeps the bounds across a reopen", async () => {
    await writeV1(range(0n, 5n));
    await appendRecords(await open(), 1, 0, range(5n, 10n));
    const storage = opened[0]!;
    await storage.deleteRecords(1, 0, 0n, 7n);
    expect((await storage.readRecords(1, 0, 0n, 100, Infinity)).map((r) => r.offset)).toEqual([7n, 8n, 9n]);
    expect(await raw((db) => v1Keys(db, 1, 0))).toEqual([]);
    expect(await (await open()).partitionBounds(1, 0)).toEqual({ start: 7n, end: 10n });
  });

  it("replaces v1 records appended again, and reads v1 records merged with packs by offset", async () => {
    await writeV1([0n, 1n, 2n, 3n, 4n, MAX_U64]);
    const storage = await open();
    await storage.batch().appendRecord(1, 0, 3n, bytes("three")).appendRecord(1, 0, 4n, bytes("four")).write({ sync: false });
    await appendRecords(storage, 1, 0, [7n]);
    const all = (await storage.readRecords(1, 0, 0n, 100, Infinity)).map((r) => [r.offset, text(r.value)]);
    expect(all).toEqual([
      [0n, "v1/0"],
      [1n, "v1/1"],
      [2n, "v1/2"],
      [3n, "three"],
      [4n, "four"],
      [7n, "1/0/7"],
      [MAX_U64, `v1/${MAX_U64}`],
    ]);
    expect((await storage.getRecords(1, 0, [4n, 3n, 2n])).map(text)).toEqual(["four", "three", "v1/2"]);
    expect((await storage.readRecords(1, 0, 2n, 3, Infinity)).map((r) => r.offset)).toEqual([2n, 3n, 4n]);
    expect(await storage.partitionBounds(1, 0)).toEqual({ start: 0n, end: MAX_U64 + 1n });
  });

  it("stops a read at a v1 record that does not fit, before the packs after it", async () => {
    const db: Db = new ClassicLevel<Uint8Array, Uint8Array>(dir, { keyEncoding: "view", valueEncoding: "view" });
    await db.open();
    await db.put(FORMAT_KEY, new TextEncoder().encode("sluice-storage-v1"));
    await db.batch([
      { type: "put", key: recordKey(1, 0, 0n), value: bytes("a") },
      { type: "put", key: recordKey(1, 0, 1n), value: bytes("b") },
      { type: "put", key: recordKey(1, 0, 2n), value: new Uint8Array(100) },
    ]);
    await db.close();
    const storage = await open();
    await storage.batch().appendRecord(1, 0, 3n, bytes("c")).appendRecord(1, 0, 4n, bytes("d")).write({ sync: false });
    expect((await storage.readRecords(1, 0, 0n, 10, 50)).map((r) => r.offset)).toEqual([0n, 1n]);
    expect((await storage.readRecords(1, 0, 1n, 10, 10)).map((r) => r.offset)).toEqual([1n]);
    expect((await storage.readRecords(1, 0, 2n, 10, 10)).map((r) => r.offset)).toEqual([2n]);
    expect((await storage.readRecords(1, 0, 3n, 10, 10)).map((r) => r.offset)).toEqual([3n, 4n]);
  });

  it("purges both kinds of a deleted topic's records", async () => {
    await writeV1(range(0n, 3n));
    const storage = await open();
    await appendRecords(storage, 1, 0, range(3n, 6n));
    await storage.batch().deleteTopic(1).write({ sync: false });
    await storage.purgeDeleted();
    expect(await storage.partitionBounds(1, 0)).toEqual({ start: 0n, end: 0n });
    expect(await raw((db) => logKeys(db, 1, 0))).toEqual([]);
  });
});
