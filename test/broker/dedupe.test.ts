import { describe, expect, it } from "vitest";
import { Broker } from "../../src/broker/broker.js";
import { DedupeIndex } from "../../src/broker/dedupe-index.js";
import { encodeDedupeSnapshot, readDedupeSnapshot } from "../../src/broker/dedupe-snapshot.js";
import type { Logger } from "../../src/broker/logger.js";
import type { BrokerLimits, TopicSettings } from "../../src/broker/types.js";
import { MemoryStorage } from "../../src/storage/memory-storage.js";
import { ManualClock } from "../helpers/manual-clock.js";
import { msg, text, textCodec } from "../helpers/text-codec.js";

const WINDOW = 60_000;
const settings = (overrides: Partial<TopicSettings> = {}): TopicSettings => ({
  partitions: 1,
  retentionMaxAgeMs: 0,
  retentionMaxBytes: 0n,
  dedupeWindowMs: WINDOW,
  ...overrides,
});

async function open(mem = new MemoryStorage(), clock = new ManualClock(), limits: Partial<BrokerLimits> = {}, logger?: Logger) {
  await mem.open();
  const broker = await Broker.open({ storage: mem, codec: textCodec, clock, limits, ...(logger ? { logger } : {}) });
  return { mem, clock, broker };
}

async function stored(mem: MemoryStorage, topicId = 1, partition = 0): Promise<string[]> {
  return (await mem.readRecords(topicId, partition, 0n, 1000, Infinity)).map((r) => text(r.value));
}

/** A logger that keeps the messages of warnings. */
function recordingLogger(warnings: string[]): Logger {
  const logger: Logger = {
    debug() {},
    info() {},
    error() {},
    warn: (_obj, message) => void warnings.push(message ?? ""),
    child: () => logger,
  };
  return logger;
}

/** Counts the record reads of `mem` from now on. */
function countReads(mem: MemoryStorage): () => number {
  let reads = 0;
  const read = mem.readRecords.bind(mem);
  mem.readRecords = (...args) => {
    reads++;
    return read(...args);
  };
  return () => reads;
}

describe("dedupe on publish", () => {
  it("stores a repeated id once, answering repeats with the first position and duplicate set", async () => {
    const { mem, broker } = await open();
    await broker.createTopic("t", settings({ partitions: 3 }));
    const [first] = await broker.publish("t", [msg("a", "id-1")]);
    expect(first).toEqual({ partition: first!.partition, offset: 0n });
    const again = await broker.publish("t", [msg("a-again", "id-1"), msg("b", "id-2"), msg("c")]);
    expect(again[0]).toEqual({ partition: first!.partition, offset: 0n, duplicate: true });
    expect(again[1]!.duplicate).toBeUndefined();
    const all = await Promise.all([0, 1, 2].map((p) => stored(mem, 1, p)));
    expect(all.flat().sort()).toEqual(["a", "b", "c"]);
  });

  it("stores one message for repeats within one call and within one group commit", async () => {
    const { mem, broker } = await open();
    await broker.createTopic("t", settings());
    const [inOneCall, ...concurrent] = await Promise.all([
      broker.publish("t", [msg("x1", "x"), msg("x2", "x")]),
      broker.publish("t", [msg("y1", "y")]),
      broker.publish("t", [msg("y2", "y")]),
      broker.publish("t", [msg("y3", "y")]),
    ]);
    expect(inOneCall).toEqual([
      { partition: 0, offset: 0n },
      { partition: 0, offset: 0n, duplicate: true },
    ]);
    expect(concurrent.map((r) => r[0])).toEqual([
      { partition: 0, offset: 1n },
      { partition: 0, offset: 1n, duplicate: true },
      { partition: 0, offset: 1n, duplicate: true },
    ]);
    expect(await stored(mem)).toEqual(["x1", "y1"]);
  });

  it("stores the message again once the window has passed", async () => {
    const { mem, clock, broker } = await open();
    await broker.createTopic("t", settings());
    await broker.publish("t", [msg("a", "id")]);
    clock.advance(WINDOW - 1);
    expect((await broker.publish("t", [msg("b", "id")]))[0]!.duplicate).toBe(true);
    clock.advance(1);
    expect(await broker.publish("t", [msg("c", "id")])).toEqual([{ partition: 0, offset: 1n }]);
    expect(await stored(mem)).toEqual(["a", "c"]);
  });

  it("forgets an id whose write failed, so that the retry is stored", async () => {
    const { mem, broker } = await open();
    await broker.createTopic("t", settings());
    mem.failNextWrites(1, "io");
    await expect(broker.publish("t", [msg("lost", "id")])).rejects.toMatchObject({ code: "unavailable" });
    expect(await broker.publish("t", [msg("kept", "id")])).toEqual([{ partition: 0, offset: 0n }]);
    expect(await stored(mem)).toEqual(["kept"]);
  });

  it("remembers ids across a restart inside the window, and not past it", async () => {
    const { mem, clock, broker } = await open();
    await broker.createTopic("t", settings({ partitions: 2 }));
    const [first] = await broker.publish("t", [msg("a", "id", 1)]);
    await broker.close();
    clock.advance(WINDOW / 2);
    const reopened = await open(mem, clock);
    expect(await reopened.broker.publish("t", [msg("b", "id", 0)])).toEqual([{ ...first, duplicate: true }]);
    await reopened.broker.close();
    clock.advance(WINDOW / 2);
    const later = await open(mem, clock);
    expect((await later.broker.publish("t", [msg("c", "id", 0)]))[0]!.duplicate).toBeUndefined();
  });

  it("neither checks nor stores ids when the window is 0", async () => {
    const { mem, broker } = await open();
    await broker.createTopic("t", settings({ dedupeWindowMs: 0 }));
    const results = await broker.publish("t", [msg("a", "id"), msg("b", "id")]);
    expect(results).toEqual([
      { partition: 0, offset: 0n },
      { partition: 0, offset: 1n },
    ]);
    await broker.close();
    let saved = 0;
    const result = await readDedupeSnapshot(mem.readDedupeSnapshot(), { start: () => undefined, entry: () => saved++ });
    expect(result).toBe("complete");
    expect(saved).toBe(0);
  });

  it("keeps topics apart", async () => {
    const { broker } = await open();
    await broker.createTopic("t", settings());
    await broker.createTopic("u", settings());
    await broker.publish("t", [msg("a", "id")]);
    expect((await broker.publish("u", [msg("a", "id")]))[0]!.duplicate).toBeUndefined();
  });

  it("refuses a window over 1 day", async () => {
    const { broker } = await open();
    await expect(broker.createTopic("t", settings({ dedupeWindowMs: 86_400_001 }))).rejects.toMatchObject({
      code: "invalid-argument",
    });
  });

  it("saves the index at shutdown and starts from it without re-reading records", async () => {
    const { mem, clock, broker } = await open();
    await broker.createTopic("t", settings({ partitions: 2 }));
    const first = await broker.publish("t", [msg("a", "id-a", 0), msg("b", "id-b", 1)]);
    await broker.close();
    let pieces = 0;
    for await (const piece of mem.readDedupeSnapshot()) pieces += piece.length > 0 ? 1 : 0;
    expect(pieces).toBe(1);
    const reads = countReads(mem);
    const reopened = await open(mem, clock);
    expect(reads()).toBe(0);
    const again = await reopened.broker.publish("t", [msg("a2", "id-a", 1), msg("b2", "id-b", 0)]);
    expect(again).toEqual(first.map((r) => ({ ...r, duplicate: true })));
  });

  it("after a crash, re-reads only the records written since the saved index, and finds their ids", async () => {
    const { mem, clock, broker } = await open();
    await broker.createTopic("t", settings({ partitions: 2 }));
    await broker.publish("t", [msg("a", "before", 0)]);
    await broker.close();
    const second = await open(mem, clock);
    const after = await second.broker.publish("t", [msg("b", "after", 1), msg("c", "", 1)]);
    // A crash: the broker never closes, storage is simply opened again.
    await mem.close();
    const reads = countReads(mem);
    const third = await open(mem, clock);
    // Partition 0 is covered by the saved index; partition 1 is re-read from offset 0.
    expect(reads()).toBeGreaterThan(0);
    const again = await third.broker.publish("t", [msg("a2", "before", 1), msg("b2", "after", 0)]);
    expect(again).toEqual([
      { partition: 0, offset: 0n, duplicate: true },
      { ...after[0], duplicate: true },
    ]);
  });

  it("after a crash with no saved index, re-reads the records inside the window only", async () => {
    const { mem, clock, broker } = await open();
    await broker.createTopic("t", settings());
    await broker.publish("t", [msg("old", "old")]);
    clock.advance(WINDOW);
    await broker.publish("t", [msg("new", "new")]);
    await mem.close();
    const reopened = await open(mem, clock);
    const again = await reopened.broker.publish("t", [msg("old2", "old"), msg("new2", "new")]);
    expect(again.map((r) => r.duplicate ?? false)).toEqual([false, true]);
  });

  it("ignores an unreadable saved index with a warning, and re-reads instead", async () => {
    const warnings: string[] = [];
    const logger = recordingLogger(warnings);
    const { mem, clock, broker } = await open();
    await broker.createTopic("t", settings());
    await broker.publish("t", [msg("a", "id")]);
    await broker.close();
    await mem.batch().putDedupeSnapshot(Uint8Array.of(1, 2, 3)).write({ sync: false });
    const reopened = await open(mem, clock, {}, logger);
    expect(warnings.some((w) => w.includes("dedupe index is unreadable"))).toBe(true);
    expect((await reopened.broker.publish("t", [msg("b", "id")]))[0]!.duplicate).toBe(true);
  });

  it("drops the entries it restored from a saved index found cut short, and re-reads instead", async () => {
    const warnings: string[] = [];
    const { mem, clock, broker } = await open();
    await broker.createTopic("t", settings());
    await broker.publish("t", [msg("a", "id")]);
    await broker.close();
    // A snapshot whose first entry names an id the log does not hold, cut short after it.
    const ghost = new DedupeIndex(10, () => WINDOW, () => undefined);
    ghost.add(1, "ghost", 0, 7n, clock.now());
    ghost.add(1, "other", 0, 8n, clock.now());
    const bytes = encodeDedupeSnapshot(ghost, [{ topicId: 1, partition: 0, end: 9n }]);
    await mem.batch().putDedupeSnapshot(bytes.subarray(0, bytes.length - 1)).write({ sync: false });
    const reopened = await open(mem, clock, {}, recordingLogger(warnings));
    expect(warnings.some((w) => w.includes("dedupe index is unreadable"))).toBe(true);
    const results = await reopened.broker.publish("t", [msg("g", "ghost"), msg("b", "id")]);
    expect(results.map((r) => r.duplicate ?? false)).toEqual([false, true]);
    expect(await stored(mem)).toEqual(["a", "g"]);
  });

  it("forgets the oldest ids beyond --dedupe-max-entries, warning once", async () => {
    const warnings: string[] = [];
    const { broker } = await open(undefined, undefined, { dedupeMaxEntries: 2 }, recordingLogger(warnings));
    await broker.createTopic("t", settings());
    await broker.publish("t", [msg("1", "a"), msg("2", "b"), msg("3", "c"), msg("4", "d")]);
    const again = await broker.publish("t", [msg("5", "a"), msg("6", "d")]);
    expect(again.map((r) => r.duplicate ?? false)).toEqual([false, true]);
    expect(warnings.filter((w) => w.includes("dedupe index is full"))).toHaveLength(1);
  });
});
