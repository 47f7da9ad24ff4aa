import { createHash } from "node:crypto";
import { cp, mkdtemp, readdir, readFile, rm, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { BrokerProcess, cleanupBrokerProcesses, runBroker, tempDir } from "../helpers/broker-process.js";
import { AdminService, BrokerService, call } from "../helpers/grpc-clients.js";
import { readLog } from "./support/scenario.js";

// Foreign directories (other files; a LevelDB database Sluice did not make)
// are refused by test/process/crash.test.ts ("the data directory") and
// test/storage/level-storage.test.ts. This file damages a real Sluice data
// directory the ways disks and people do, and checks the broker refuses to
// start on it, says why, and changes nothing there.

const enc = new TextEncoder();

afterEach(async () => {
  await cleanupBrokerProcesses();
});

/** The names and contents of every file, to prove the broker changed nothing. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of (await readdir(dir)).sort()) {
    if (name === "LOG" || name === "LOG.old" || name === "LOCK") continue; // LevelDB's own diary
    out[name] = createHash("sha256").update(await readFile(path.join(dir, name))).digest("hex");
  }
  return out;
}

/** A data directory holding 500 messages, in a table file and a log, closed cleanly. */
async function makeDataDir(): Promise<string> {
  const dataDir = path.join(await tempDir(), "data");
  let p = await BrokerProcess.start({ dataDir });
  await call(p.clients.admin, AdminService.method.createTopic, { name: "t" });
  const publish = (from: number) =>
    call(p.clients.broker, BrokerService.method.publish, {
      topic: "t",
      messages: Array.from({ length: 250 }, (_, i) => ({ payload: enc.encode(`m${from + i}`.padEnd(200, ".")), messageId: `m${from + i}` })),
    });
  await publish(0);
  expect((await p.stop()).code).toBe(0);
  // Opening again turns the first log into a table file.
  p = await BrokerProcess.start({ dataDir });
  await publish(250);
  expect((await p.stop()).code).toBe(0);
  return dataDir;
}

let pristine: string;
let keep: string;
beforeAll(async () => {
  // Kept apart from the per-test temp dirs, which afterEach removes.
  keep = await mkdtemp(path.join(tmpdir(), "sluice-pristine-"));
  pristine = path.join(keep, "data");
  await cp(await makeDataDir(), pristine, { recursive: true });
  await cleanupBrokerProcesses();
  const files = await readdir(pristine);
  expect(files.some((f) => f.endsWith(".ldb"))).toBe(true);
  expect(files.some((f) => f.startsWith("MANIFEST-"))).toBe(true);
});

afterAll(async () => {
  await rm(keep, { recursive: true, force: true });
});

/** A copy of the prepared directory to damage. */
async function copyOf(dir: string): Promise<string> {
  const copy = path.join(await tempDir(), "data");
  await cp(dir, copy, { recursive: true });
  return copy;
}

async function fileLike(dir: string, re: RegExp): Promise<string> {
  const name = (await readdir(dir)).find((f) => re.test(f));
  if (name === undefined) throw new Error(`no file like ${re} in ${dir}`);
  return path.join(dir, name);
}

/**
 * Each damage, and the file it leaves damaged (for "table file" damage,
 * LevelDB opens the database, replaying its log into a new table, before
 * Sluice's first read fails: the directory then changes, but the damaged
 * file stays as it was).
 */
const damages: Array<[string, (dir: string) => Promise<string | undefined>]> = [
  ["CURRENT is empty", async (dir) => void (await truncate(path.join(dir, "CURRENT"), 0))],
  ["CURRENT names a manifest that does not exist", async (dir) => void (await writeFile(path.join(dir, "CURRENT"), "MANIFEST-999999\n"))],
  ["CURRENT is missing", async (dir) => void (await rm(path.join(dir, "CURRENT")))],
  ["the MANIFEST is empty", async (dir) => void (await truncate(await fileLike(dir, /^MANIFEST-/), 0))],
  [
    "the MANIFEST is cut in half",
    async (dir) => {
      const f = await fileLike(dir, /^MANIFEST-/);
      await truncate(f, Math.floor((await readFile(f)).length / 2));
      return undefined;
    },
  ],
  ["a table file is missing", async (dir) => void (await rm(await fileLike(dir, /\.ldb$/)))],
  [
    "a table file is cut short",
    async (dir) => {
      const f = await fileLike(dir, /\.ldb$/);
      await truncate(f, 100);
      return path.basename(f);
    },
  ],
];

describe("a damaged data directory", () => {
  it.each(damages)("is refused at start with a clear message and a non-zero exit, and left as it was: %s", async (_what, damage) => {
    const dir = await copyOf(pristine);
    const damaged = await damage(dir);
    const before = await snapshot(dir);
    const run = await runBroker(["--port", "0", "--data-dir", dir]);
    expect(run.code, `exit code; stdout: ${run.stdout}`).toBe(1);
    const fatal = run.stdout
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l["level"] === 60);
    expect(fatal, `a fatal log line; stdout: ${run.stdout} stderr: ${run.stderr}`).toBeDefined();
    expect(String(fatal!["msg"])).toMatch(new RegExp(`data directory ${dir.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} (is damaged|cannot be (opened|read) \\(damaged or unreadable\\)|holds LevelDB files but no CURRENT)`));
    expect(String(fatal!["msg"])).not.toMatch(/internal/i);
    const after = await snapshot(dir);
    if (damaged === undefined) expect(after, "the broker changed nothing in the directory").toEqual(before);
    else expect(after[damaged], "the damaged file is left as it was").toBe(before[damaged]);
    console.log(`[faults] damaged data dir (${_what}): exit ${run.code}: ${String(fatal!["msg"])}`);
  });

  it("opens the undamaged copy with every message (the damage, not the copy, is what is refused)", async () => {
    const dir = await copyOf(pristine);
    const p = await BrokerProcess.start({ dataDir: dir });
    const log = await readLog(p.clients, "t");
    expect(log.map((e) => e.messageId)).toEqual(Array.from({ length: 500 }, (_, i) => `m${i}`));
  });
});
