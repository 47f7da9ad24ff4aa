import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readdir, rm, stat, truncate, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ClassicLevel } from "classic-level";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { decodeGroupPartitionState, encodeGroupPartitionState } from "../../src/storage/group-state-codec.js";
import { levelErrorCode } from "../../src/storage/level-errors.js";
import { endFloorKey, groupStateKey, isPackKey, logKeyOffset, packKey, recordKey } from "../../src/storage/level-keys.js";
import { LEVEL_STORAGE_FORMAT, LevelStorage } from "../../src/storage/level-storage.js";
import type { Storage } from "../../src/storage/storage.js";
import { MAX_U64, TWO_POW_53, appendRecords, expectStorageError } from "./storage-contract-helpers.js";
import { storageContract } from "./storage-contract.js";

/** Reads the snapshot through; resolves with its length. */
async function drain(pieces: AsyncIterable<Uint8Array>): Promise<number> {
  let n = 0;
  for await (const piece of pieces) n += piece.byteLength;
  return n;
}

storageContract("LevelStorage", { persistent: true, failureInjection: false }, async () => {
  const dir = await mkdtemp(join(tmpdir(), "sluice-storage-"));
  const location = join(dir, "data");
  let current: Storage = new LevelStorage({ location });
  await current.open();
  return {
    storage: current,
    reopen: async () => {
      await current.close();
      current = new LevelStorage({ location });
      await current.open();
      return current;
    },
    cleanup: async () => {
      await current.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

describe("LevelStorage data directory", () => {
  let dir: string;
  const opened: LevelStorage[] = [];

  /** Opens a storage that afterEach closes. */
  async function open(location: string): Promise<LevelStorage> {
    const storage = new LevelStorage({ location });
    opened.push(storage);
    await storage.open();
    return storage;
  }

  /** Creates a LevelDB database at `location` holding `entries`. */
  async function createLevelDb(location: string, entries: [string, string][]): Promise<void> {
    const db = new ClassicLevel(location);
    await db.open();
    for (const [key, value] of entries) await db.put(key, value);
    await db.close();
  }

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "sluice-storage-"));
  });
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((s) => s.close()));
    await rm(dir, { recursive: true, force: true });
  });

  it("creates a missing directory, parents included, and opens it again", async () => {
    const location = join(dir, "a", "b");
    await appendRecords(await open(location), 1, 0, [0n]);
    await opened.pop()!.close();
    expect(await (await open(location)).partitionBounds(1, 0)).toEqual({ start: 0n, end: 1n });
  });

  it("opens an empty existing directory and one holding only lost+found", async () => {
    await mkdir(join(dir, "lost+found"));
    expect((await (await open(dir)).load()).topics).toEqual([]);
  });

  it("refuses a LevelDB database without the format marker as foreign", async () => {
    await createLevelDb(dir, [["someone", "else"]]);
    const err = await expectStorageError(open(dir), "foreign");
    expect(err.message).toContain(dir);
    expect(err.message).toMatch(/did not create/);
  });

  it("refuses a LevelDB database with another format marker as foreign", async () => {
    await createLevelDb(dir, [["\u0000format", "sluice-storage-v9"]]);
    const err = await expectStorageError(open(dir), "foreign");
    expect(err.message).toContain("sluice-storage-v9");
  });

  it("refuses a non-empty directory that is not a LevelDB database as foreign, touching nothing", async () => {
    await writeFile(join(dir, ".bashrc"), "alias ll='ls -l'\n");
    await mkdir(join(dir, "Documents"));
    const err = await expectStorageError(open(dir), "foreign");
    expect(err.message).toContain(dir);
    expect(err.message).toMatch(/\.bashrc|Documents/);
    await expectStorageError(open(dir), "foreign");
  });

  it("refuses a path that is a file as foreign", async () => {
    await writeFile(join(dir, "file"), "x");
    await expectStorageError(open(join(dir, "file")), "foreign");
  });

  it("refuses LevelDB files without a CURRENT file as corrupt instead of starting over", async () => {
    const storage = await open(dir);
    await appendRecords(storage, 1, 0, [0n]);
    await storage.close();
    await unlink(join(dir, "CURRENT"));
    await expectStorageError(open(dir), "corrupt");
  });

  it("reports damage that LevelDB finds as corrupt", async () => {
    await (await open(dir)).close();
    await writeFile(join(dir, "CURRENT"), "garbage");
    await expectStorageError(open(dir), "corrupt");
  });

  it("refuses a second storage on the same directory as unavailable, until the first closes", async () => {
    const first = await open(dir);
    const err = await expectStorageError(open(dir), "unavailable");
    expect(err.message).toBe(`data directory ${dir} is in use by another process`);
    await first.close();
    expect((await (await open(dir)).load()).topics).toEqual([]);
  });

  it("writes the format marker into a new database", async () => {
    await (await open(dir)).close();
    const db = new ClassicLevel(dir);
    await db.open();
    expect(await db.get("\u0000format")).toBe(LEVEL_STORAGE_FORMAT);
    await db.close();
  });

  it("leaves nothing in the write-ahead log at close, so that the next open replays nothing", async () => {
    const storage = await open(dir);
    const batch = storage.batch();
    for (let i = 0; i < 1000; i++) batch.appendRecord(1, 0, BigInt(i), new Uint8Array(1000).fill(i & 0xff));
    await batch.write({ sync: false });
    await opened.pop()!.close();
    const logs = (await readdir(dir)).filter((f) => f.endsWith(".log"));
    expect(logs.length).toBeGreaterThan(0);
    for (const log of logs) expect((await stat(join(dir, log))).size, log).toBe(0);
    const reopened = await open(dir);
    expect(await reopened.readRecords(1, 0, 0n, 2000, Infinity)).toHaveLength(1000);
  });

  it("keeps the dedupe snapshot in a file beside LevelDB's and refuses a file of another length, or none, as corrupt", async () => {
    const storage = await open(dir);
    const snapshot = new Uint8Array(3 * 1024 * 1024 + 3).fill(9);
    await storage.batch().putDedupeSnapshot(snapshot).write({ sync: false });
    expect((await stat(join(dir, "dedupe-snapshot"))).size).toBe(snapshot.byteLength);
    let read = 0;
    for await (const piece of storage.readDedupeSnapshot()) read += piece.byteLength;
    expect(read).toBe(snapshot.byteLength);
    await truncate(join(dir, "dedupe-snapshot"), 100);
    await expectStorageError(drain(storage.readDedupeSnapshot()), "corrupt");
    await unlink(join(dir, "dedupe-snapshot"));
    await expectStorageError(drain(storage.readDedupeSnapshot()), "corrupt");
  });

  it("ignores a snapshot file the database does not know of, e.g. from a save cut short", async () => {
    const storage = await open(dir);
    await writeFile(join(dir, "dedupe-snapshot"), "stray");
    expect(await drain(storage.readDedupeSnapshot())).toBe(0);
  });

  it("deletes the in-database dedupe snapshot of earlier versions at start", async () => {
    const storage = await open(dir);
    await appendRecords(storage, 1, 0, [0n]);
    await opened.pop()!.close();
    const db = new ClassicLevel<Uint8Array, Uint8Array>(dir, { keyEncoding: "view", valueEncoding: "view" });
    await db.open();
    await db.batch([
      { type: "put", key: Uint8Array.of(0x05), value: new Uint8Array(12) },
      { type: "put", key: Uint8Array.of(0x05, 0, 0, 0, 0), value: new Uint8Array(100) },
    ]);
    await db.close();
    const reopened = await open(dir);
    await reopened.purgeDeleted();
    await opened.pop()!.close();
    await db.open();
    expect(await db.keys({ gte: Uint8Array.of(0x05), lt: Uint8Array.of(0x06) }).all()).toEqual([]);
    expect(await db.keys({ gte: Uint8Array.of(0x01), lt: Uint8Array.of(0x02) }).all()).toHaveLength(1);
    await db.close();
  });

  it("round-trips offsets above 2^53 through close and open", async () => {
    const offsets = [TWO_POW_53 + 1n, 2n ** 63n, MAX_U64 - 1n];
    await appendRecords(await open(dir), 7, 1, offsets);
    await opened.pop()!.close();
    const reopened = await open(dir);
    expect((await reopened.readRecords(7, 1, 0n, 10, 1000)).map((r) => r.offset)).toEqual(offsets);
    expect(await reopened.partitionBounds(7, 1)).toEqual({ start: TWO_POW_53 + 1n, end: MAX_U64 });
  });
});

describe("LevelStorage encodings", () => {
  it("orders log keys bytewise by offset, a v1 record before a pack ending at the same offset", () => {
    const offsets = [0n, 1n, 255n, 256n, 2n ** 32n - 1n, 2n ** 32n, TWO_POW_53 - 1n, TWO_POW_53, TWO_POW_53 + 1n, MAX_U64];
    const keys = offsets.flatMap((o) => [Buffer.from(recordKey(1, 2, o)), Buffer.from(packKey(1, 2, o))]);
    expect([...keys].sort(Buffer.compare)).toEqual(keys);
    expect(keys.map(logKeyOffset)).toEqual(offsets.flatMap((o) => [o, o]));
    expect(keys.map(isPackKey)).toEqual(offsets.flatMap(() => [false, true]));
    expect(Buffer.from(recordKey(1, 2, 0n)).toString("hex")).toBe("01" + "00000001" + "00000002" + "0000000000000000");
    expect(Buffer.from(packKey(1, 2, 0n)).toString("hex")).toBe("01" + "00000001" + "00000002" + "0000000000000000" + "00");
  });

  it("sorts the whole log below group state and end floors, so that tables flushed with acks never span older log tables", () => {
    const top = Buffer.from(packKey(0xffff_ffff, 0xffff_ffff, MAX_U64));
    expect(Buffer.compare(top, Buffer.from(groupStateKey(0, 0)))).toBe(-1);
    expect(Buffer.compare(top, Buffer.from(endFloorKey(0, 0)))).toBe(-1);
  });

  it("encodes a group partition state in 12 bytes plus 16 per range", () => {
    const state = { committed: MAX_U64 - 10n, acked: [[MAX_U64 - 5n, MAX_U64] as const] };
    const encoded = encodeGroupPartitionState(state);
    expect(encoded.byteLength).toBe(28);
    expect(decodeGroupPartitionState(encoded)).toEqual(state);
  });

  it("reports a truncated group partition state as corrupt", () => {
    const encoded = encodeGroupPartitionState({ committed: 1n, acked: [[3n, 4n]] });
    expect(() => decodeGroupPartitionState(encoded.subarray(0, 20))).toThrow(/malformed/);
  });
});

describe("LevelStorage table files", () => {
  it("writes the log in tables of about half a MiB, so that a reader keeps little of it mapped", async () => {
    const dir = await mkdtemp(join(tmpdir(), "sluice-storage-"));
    try {
      const storage = new LevelStorage({ location: dir });
      await storage.open();
      // 6 MiB of incompressible records in 100 KiB batches, as publishes arrive.
      let offset = 0n;
      for (let b = 0; b < 60; b++) {
        const batch = storage.batch();
        for (let i = 0; i < 100; i++) batch.appendRecord(1, 0, offset++, randomBytes(1024));
        await batch.write({ sync: false });
      }
      await storage.close();
      const tables = (await readdir(dir)).filter((name) => name.endsWith(".ldb"));
      const sizes = await Promise.all(tables.map(async (name) => (await stat(join(dir, name))).size));
      // LevelDB's default 4 MiB write buffer would have left at most one table, of ~4 MiB.
      expect(sizes.length).toBeGreaterThanOrEqual(6);
      for (const size of sizes) expect(size).toBeLessThan(1.5 * 1024 * 1024);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("LevelStorage error mapping", () => {
  const leveldbError = (code: string, message: string, cause?: unknown): Error =>
    Object.assign(new Error(message, { cause }), { code });

  it("maps a full disk to full, damage to corrupt, a held lock or closed database to unavailable", () => {
    expect(levelErrorCode(leveldbError("LEVEL_IO_ERROR", "IO error: /d/000005.log: No space left on device"))).toBe(
      "full",
    );
    expect(levelErrorCode(leveldbError("LEVEL_CORRUPTION", "Corruption: bad block"))).toBe("corrupt");
    const locked = leveldbError("LEVEL_LOCKED", "IO error: lock /d/LOCK: already held by process");
    expect(levelErrorCode(leveldbError("LEVEL_DATABASE_NOT_OPEN", "Database failed to open", locked))).toBe(
      "unavailable",
    );
    expect(levelErrorCode(leveldbError("LEVEL_DATABASE_NOT_OPEN", "Database is not open"))).toBe("unavailable");
    expect(levelErrorCode(leveldbError("LEVEL_IO_ERROR", "IO error: /d/000005.log: Input/output error"))).toBe("io");
  });

  it("rejects a batch started before close and written after it with unavailable", async () => {
    const dir = await mkdtemp(join(tmpdir(), "sluice-storage-"));
    try {
      const storage = new LevelStorage({ location: dir });
      await storage.open();
      const batch = storage.batch().appendRecord(1, 0, 0n, new Uint8Array(1));
      await storage.close();
      await expectStorageError(batch.write({ sync: true }), "unavailable");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
