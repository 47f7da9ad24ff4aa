import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { levelDbBuild } from "../../src/storage/level-build.js";
import { LevelStorage } from "../../src/storage/level-storage.js";

/** The files of `dir` this process has mapped into memory, from /proc/self/maps. */
function mappedFilesUnder(dir: string): string[] {
  return readFileSync("/proc/self/maps", "utf8")
    .split("\n")
    .map((line) => line.split(/\s+/).slice(5).join(" "))
    .filter((file) => file.startsWith(dir));
}

describe("the LevelDB build (tools/build-leveldb.mjs, run by npm ci)", () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it("is the one rebuilt to read with pread, as the broker reports at start", () => {
    const build = levelDbBuild();
    expect(build.readsWithMmap, `${build.detail}; run npm run build:leveldb (needs a C++ compiler, make, Python 3)`).toBe(false);
    expect(build.detail).toContain("pread");
  });

  it("reads table files without mapping them into the process", async () => {
    dir = await mkdtemp(join(tmpdir(), "sluice-leveldb-build-"));
    const storage = new LevelStorage({ location: join(dir, "data") });
    await storage.open();
    try {
      // 16 writes of 512 KiB: more than the 512 KiB write buffer each, so
      // LevelDB writes tables (a write waits while the previous memtable is flushed).
      const value = randomBytes(1024);
      let offset = 0n;
      for (let w = 0; w < 16; w++) {
        const batch = storage.batch();
        for (let i = 0; i < 512; i++) batch.appendRecord(1, 0, offset++, value);
        await batch.write({ sync: false });
      }
      const tables = (await readdir(join(dir, "data"))).filter((f) => f.endsWith(".ldb"));
      expect(tables.length).toBeGreaterThanOrEqual(2);

      let read = 0;
      for (let from = 0n; from < offset; ) {
        const records = await storage.readRecords(1, 0, from, 1024, 4 << 20);
        read += records.length;
        from = records.at(-1)!.offset + 1n;
      }
      expect(read).toBe(Number(offset));
      expect(mappedFilesUnder(dir)).toEqual([]);
    } finally {
      await storage.close();
    }
  });
});
