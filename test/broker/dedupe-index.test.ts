import { describe, expect, it } from "vitest";
import { DedupeIndex } from "../../src/broker/dedupe-index.js";
import { encodeDedupeSnapshot, readDedupeSnapshot, type SnapshotReadResult } from "../../src/broker/dedupe-snapshot.js";
import { hashMessageId } from "../../src/broker/id-hash.js";

const T0 = 1_700_000_000_000;
const WINDOW = 1000;

type Entry = [topicId: number, h0: number, h1: number, h2: number, partition: number, offset: number, timeMs: number];

/** What {@link readDedupeSnapshot} finds in `bytes` handed over in pieces of `pieceBytes`. */
async function decode(bytes: Uint8Array, pieceBytes = bytes.length || 1) {
  async function* pieces(): AsyncGenerator<Uint8Array> {
    for (let p = 0; p < bytes.length; p += pieceBytes) yield bytes.subarray(p, p + pieceBytes);
  }
  let ends: ReadonlyMap<string, bigint> | undefined;
  let count: number | undefined;
  const entries: Entry[] = [];
  const result: SnapshotReadResult = await readDedupeSnapshot(pieces(), {
    start(e, n) {
      expect(entries).toHaveLength(0);
      ends = e;
      count = n;
    },
    entry: (...entry) => entries.push(entry),
  });
  return { result, ends, count, entries };
}

function index(maxEntries = 1000, windows = new Map<number, number>()): { index: DedupeIndex; fullCalls: () => number } {
  let calls = 0;
  const windowOf = (topicId: number): number => windows.get(topicId) ?? WINDOW;
  return { index: new DedupeIndex(maxEntries, windowOf, () => calls++), fullCalls: () => calls };
}

describe("dedupe index", () => {
  it("finds an id within its window with its first position, and not from the window's end on", () => {
    const { index: ix } = index();
    ix.add(1, "a", 3, 42n, T0);
    expect(ix.find(1, "a", WINDOW, T0 + WINDOW - 1)).toEqual({ partition: 3, offset: 42n, timeMs: T0 });
    expect(ix.find(1, "a", WINDOW, T0 + WINDOW)).toBeUndefined();
    expect(ix.find(2, "a", WINDOW, T0)).toBeUndefined();
    expect(ix.find(1, "b", WINDOW, T0)).toBeUndefined();
  });

  it("applies the window asked for at lookup, so a shorter window takes effect at once", () => {
    const { index: ix } = index();
    ix.add(1, "a", 0, 0n, T0);
    expect(ix.find(1, "a", 60_000, T0 + 5000)).toBeDefined();
    expect(ix.find(1, "a", 5000, T0 + 5000)).toBeUndefined();
  });

  it("keeps offsets up to 2^53 exact", () => {
    const { index: ix } = index();
    ix.add(1, "big", 0, 2n ** 53n - 1n, T0);
    expect(ix.find(1, "big", WINDOW, T0)?.offset).toBe(2n ** 53n - 1n);
  });

  it("forgets expired entries from the head as newer ones arrive, and on expire(), under each topic's window", () => {
    const windows = new Map([[2, 100_000]]);
    const { index: ix } = index(1000, windows);
    for (let i = 0; i < 10; i++) ix.add(1, `m${i}`, 0, BigInt(i), T0 + i * 100);
    expect(ix.size).toBe(10);
    ix.add(1, "late", 0, 10n, T0 + 1450);
    // m0..m4 (times up to T0+400) expired by T0+1450.
    expect(ix.size).toBe(6);
    expect(ix.find(1, "m4", WINDOW, T0 + 1300)).toBeUndefined();
    ix.add(2, "long", 0, 0n, T0 + 1500);
    ix.expire(T0 + 10_000);
    expect(ix.topicSize(1)).toBe(0);
    expect(ix.topicSize(2)).toBe(1);
    ix.expire(T0 + 1500 + 100_000);
    expect(ix.size).toBe(0);
  });

  it("replaces an expired entry of the same id with the new position", () => {
    const { index: ix } = index();
    ix.add(1, "a", 0, 1n, T0);
    ix.add(1, "a", 2, 9n, T0 + WINDOW);
    expect(ix.find(1, "a", WINDOW, T0 + WINDOW)).toMatchObject({ partition: 2, offset: 9n });
    expect(ix.size).toBe(1);
  });

  it("withdraws an entry whose write failed, but not one that points elsewhere since", () => {
    const { index: ix } = index();
    ix.add(1, "a", 0, 1n, T0);
    ix.withdraw(1, "a", 0, 2n);
    expect(ix.size).toBe(1);
    ix.withdraw(1, "a", 0, 1n);
    expect(ix.find(1, "a", WINDOW, T0)).toBeUndefined();
    expect(ix.size).toBe(0);
    ix.withdraw(1, "a", 0, 1n);
    expect(ix.size).toBe(0);
  });

  it("evicts the oldest entries broker-wide beyond the cap, and reports it once", () => {
    const { index: ix, fullCalls } = index(3);
    ix.add(1, "a", 0, 0n, T0);
    ix.add(2, "b", 0, 0n, T0 + 1);
    ix.add(1, "c", 0, 1n, T0 + 2);
    expect(fullCalls()).toBe(0);
    ix.add(2, "d", 0, 1n, T0 + 3);
    ix.add(3, "e", 0, 0n, T0 + 4);
    expect(fullCalls()).toBe(1);
    expect(ix.size).toBe(3);
    const now = T0 + 5;
    expect(["1/a", "2/b", "1/c", "2/d", "3/e"].filter((k) => ix.find(Number(k[0]), k.slice(2), WINDOW, now))).toEqual([
      "1/c",
      "2/d",
      "3/e",
    ]);
  });

  it("stays exact and within the cap over many adds, removals and ring growth across topics", () => {
    const cap = 5000;
    const { index: ix } = index(cap, new Map([0, 1, 2, 3, 4, 5, 6].map((t) => [t, 3_600_000])));
    // A plain model of what must be live: the newest `cap` ids not withdrawn.
    const model = new Map<string, bigint>();
    const order: string[] = [];
    for (let i = 0; i < 40_000; i++) {
      const t = i % 7;
      const id = `m${i}`;
      ix.add(t, id, 0, BigInt(i), T0 + i);
      model.set(`${t}/${id}`, BigInt(i));
      order.push(`${t}/${id}`);
      while (model.size > cap) model.delete(order.shift()!);
      if (i % 3 === 0) {
        // Withdraw an earlier one now and then: dead slots in the middle of the ring.
        const j = i - 2;
        if (j >= 0 && model.has(`${j % 7}/m${j}`)) {
          ix.withdraw(j % 7, `m${j}`, 0, BigInt(j));
          model.delete(`${j % 7}/m${j}`);
        }
      }
    }
    expect(ix.size).toBe(model.size);
    const now = T0 + 40_000;
    for (let i = 0; i < 40_000; i++) {
      const key = `${i % 7}/m${i}`;
      const hit = ix.find(i % 7, `m${i}`, 3_600_000, now);
      expect(hit?.offset, key).toBe(model.get(key));
    }
  });

  it("forgets a topic's entries on clear(), leaving other topics'", () => {
    const { index: ix } = index();
    ix.add(1, "a", 0, 0n, T0);
    ix.add(2, "a", 0, 0n, T0);
    ix.clear(1);
    expect(ix.find(1, "a", WINDOW, T0)).toBeUndefined();
    expect(ix.find(2, "a", WINDOW, T0)).toBeDefined();
    expect(ix.size).toBe(1);
  });

  it("keeps ids apart whatever their characters and length", () => {
    const { index: ix } = index();
    const ids = ["x", "X", "ünïcødé 🚀", "a\u0000b", "ab", "k".repeat(10_000), "k".repeat(9_999)];
    ids.forEach((id, i) => ix.add(1, id, 0, BigInt(i), T0));
    ids.forEach((id, i) => expect(ix.find(1, id, WINDOW, T0)?.offset).toBe(BigInt(i)));
    expect(ix.find(1, "", WINDOW, T0)).toBeUndefined();
  });

  it("hashes ids to distinct 96-bit values across a million ids (no collision)", () => {
    const seen = new Set<string>();
    const h = new Uint32Array(3);
    for (let i = 0; i < 1_000_000; i++) {
      hashMessageId(1, `id-${i}`, h);
      seen.add(`${h[0]}:${h[1]}:${h[2]}`);
    }
    expect(seen.size).toBe(1_000_000);
  });
});

describe("dedupe snapshot", () => {
  it("round-trips the live entries and covered ends, skipping expired entries on restore", async () => {
    const { index: ix } = index();
    ix.add(1, "a", 0, 5n, T0);
    ix.add(2, "b", 3, 7n, T0 + 600);
    ix.add(1, "gone", 0, 6n, T0 + 1);
    ix.withdraw(1, "gone", 0, 6n);
    const bytes = encodeDedupeSnapshot(ix, [
      { topicId: 1, partition: 0, end: 7n },
      { topicId: 2, partition: 3, end: 8n },
    ]);
    const snapshot = await decode(bytes);
    expect(snapshot.result).toBe("complete");
    expect(snapshot.ends).toEqual(new Map([["1/0", 7n], ["2/3", 8n]]));
    expect(snapshot.count).toBe(2);
    const { index: restored } = index();
    for (const [t, h0, h1, h2, p, o, time] of snapshot.entries) restored.restore(t, h0, h1, h2, p, o, time, T0 + WINDOW);
    expect(restored.size).toBe(1);
    expect(restored.find(2, "b", WINDOW, T0 + WINDOW)).toEqual({ partition: 3, offset: 7n, timeMs: T0 + 600 });
    expect(restored.find(1, "gone", WINDOW, T0 + WINDOW)).toBeUndefined();
  });

  it("decodes the same from pieces of any size, parts cut across pieces included", async () => {
    const { index: ix } = index();
    for (let i = 0; i < 50; i++) ix.add(1 + (i % 3), `id-${i}`, i % 4, BigInt(i), T0 + i);
    const ends = [0, 1, 2, 3].map((partition) => ({ topicId: 1, partition, end: 50n + BigInt(partition) }));
    const bytes = encodeDedupeSnapshot(ix, ends);
    const whole = await decode(bytes);
    expect(whole.entries).toHaveLength(50);
    for (const size of [1, 3, 8, 15, 17, 35, 36, 37, 100, 1000]) {
      expect(await decode(bytes, size), `pieces of ${size}`).toEqual(whole);
    }
  });

  it("reports no bytes as none, and bytes it did not write, cut short or running on as invalid", async () => {
    const { index: ix } = index();
    ix.add(1, "a", 0, 5n, T0);
    const bytes = encodeDedupeSnapshot(ix, [{ topicId: 1, partition: 0, end: 6n }]);
    expect((await decode(new Uint8Array(0))).result).toBe("none");
    expect((await decode(bytes.subarray(0, bytes.length - 1))).result).toBe("invalid");
    expect((await decode(bytes.subarray(0, 8), 3)).result).toBe("invalid");
    expect((await decode(new Uint8Array(40))).result).toBe("invalid");
    expect((await decode(Uint8Array.of(...bytes, 0))).result).toBe("invalid");
    expect((await decode(Uint8Array.of(...bytes, 0), 7)).result).toBe("invalid");
  });
});

describe("dedupe index layout limits", () => {
  it("keeps partition 65,535 and offsets past 2^32, and refuses (or, restoring, skips) what it cannot store", () => {
    const { index: ix } = index();
    ix.add(1, "p", 65_535, 2n ** 32n + 7n, T0);
    ix.add(1, "q", 0, 2n ** 40n, T0 + 1);
    expect(ix.find(1, "p", WINDOW, T0)).toEqual({ partition: 65_535, offset: 2n ** 32n + 7n, timeMs: T0 });
    expect(ix.find(1, "q", WINDOW, T0 + 1)).toEqual({ partition: 0, offset: 2n ** 40n, timeMs: T0 + 1 });
    const seen: Entry[] = [];
    ix.forEach((...entry) => seen.push(entry));
    expect(seen.map(([t, , , , p, o, time]) => [t, p, o, time])).toEqual([
      [1, 65_535, 2 ** 32 + 7, T0],
      [1, 0, 2 ** 40, T0 + 1],
    ]);
    expect(() => ix.add(1, "r", 65_536, 0n, T0)).toThrow(RangeError);
    expect(() => ix.add(2 ** 32 - 1, "r", 0, 0n, T0)).toThrow(RangeError);
    ix.restore(1, 1, 2, 3, 65_536, 0, T0, T0);
    ix.restore(2 ** 32 - 1, 1, 2, 3, 0, 0, T0, T0);
    expect(ix.size).toBe(2);
  });

  it("keeps times exact across the time epoch's moves as the clock runs on for 30 days", () => {
    const HOUR = 3_600_000;
    const DAY = 24 * HOUR;
    // A day (the longest window a topic can have) and a minute.
    const { index: ix } = index(100_000, new Map([[1, DAY], [2, 60_000]]));
    for (let h = 0; h <= 30 * 24; h++) {
      const now = T0 + h * HOUR;
      for (let j = 0; j < 5; j++) {
        ix.add(1, `long-${h}-${j}`, j, BigInt(h), now + j);
        ix.add(2, `short-${h}-${j}`, j, BigInt(h), now + j);
      }
      if (h % 24 !== 23 && h < 29 * 24) continue;
      // Every day, and every hour of the last: what is inside its window is there, exact; nothing older.
      for (let back = 0; back <= 25; back++) {
        const at = h - back;
        for (let j = 0; j < 5; j++) {
          const want = { partition: j, offset: BigInt(at), timeMs: T0 + at * HOUR + j };
          expect(ix.find(1, `long-${at}-${j}`, DAY, now + 4)).toEqual(back < 24 ? want : undefined);
          expect(ix.find(2, `short-${at}-${j}`, 60_000, now + 4)).toEqual(back === 0 ? want : undefined);
        }
      }
      expect(ix.topicSize(1)).toBe(24 * 5);
    }
    // Past 2^31 ms (~24.9 days) from the first entry, the epoch must have moved.
    expect(ix.find(1, `long-${30 * 24}-0`, DAY, T0 + 30 * DAY)?.timeMs).toBe(T0 + 30 * DAY);
  });

  it("drops, when the epoch moves, entries it can no longer express, whatever their window", () => {
    const DAY = 86_400_000;
    // Longer than the broker allows (a day): the limit the epoch sets.
    const { index: ix } = index(1000, new Map([[1, 40 * DAY]]));
    ix.add(1, "day-0", 0, 0n, T0);
    ix.add(1, "day-10", 0, 10n, T0 + 10 * DAY);
    ix.add(1, "day-30", 0, 30n, T0 + 30 * DAY);
    const now = T0 + 30 * DAY;
    // Day 0 is more than 2^31 ms before day 30.
    expect(ix.find(1, "day-0", 40 * DAY, now)).toBeUndefined();
    expect(ix.find(1, "day-10", 40 * DAY, now)).toEqual({ partition: 0, offset: 10n, timeMs: T0 + 10 * DAY });
    expect(ix.find(1, "day-30", 40 * DAY, now)).toEqual({ partition: 0, offset: 30n, timeMs: now });
    expect(ix.size).toBe(2);
  });

  it("restores snapshot entries older than the epoch's reach under the same rule", () => {
    const DAY = 86_400_000;
    const h = new Uint32Array(3);
    const { index: ix } = index(1000, new Map([[1, DAY]]));
    ix.add(1, "new", 0, 1n, T0 + 30 * DAY);
    // Expired at `now`: skipped, nothing moves.
    hashMessageId(1, "expired", h);
    ix.restore(1, h[0]!, h[1]!, h[2]!, 0, 2, T0, T0 + 30 * DAY);
    expect(ix.size).toBe(1);
    expect(ix.find(1, "new", DAY, T0 + 30 * DAY)?.timeMs).toBe(T0 + 30 * DAY);
    // Inside its window at the `now` given (a clock 30 days back): stored exact, and what
    // is 30 days ahead of it goes.
    hashMessageId(1, "old", h);
    ix.restore(1, h[0]!, h[1]!, h[2]!, 7, 3, T0, T0 + 1000);
    expect(ix.find(1, "old", DAY, T0 + 1000)).toEqual({ partition: 7, offset: 3n, timeMs: T0 });
    expect(ix.find(1, "new", DAY, T0 + 30 * DAY)).toBeUndefined();
    expect(ix.size).toBe(1);
  });

  it("works with the smallest ring (cap 1) and refuses a cap whose ring the table cannot pack", () => {
    const { index: ix, fullCalls } = index(1);
    for (let i = 0; i < 3000; i++) ix.add(1 + (i % 3), `id-${i}`, i % 7, BigInt(i), T0 + i);
    expect(ix.size).toBe(1);
    expect(fullCalls()).toBe(1);
    expect(ix.find(3, "id-2999", WINDOW, T0 + 2999)).toEqual({ partition: 2999 % 7, offset: 2999n, timeMs: T0 + 2999 });
    expect(ix.find(2, "id-2998", WINDOW, T0 + 2999)).toBeUndefined();
    expect(() => index(2 ** 27 + 1)).toThrow(RangeError);
  });

  it("answers with the largest ring (2^27 slots, a 4-bit tag), ids sharing home slots included", () => {
    // The one allocation of the largest ring in the tests: ~5 GB of address
    // space, of which only the pages written are touched.
    const { index: ix } = index(100_000_000);
    const mask = 2 ** 28 - 1;
    // Ids whose hashes share a home slot of the 2^28-slot table.
    const h = new Uint32Array(3);
    const byHome = new Map<number, string[]>();
    for (let i = 0; i < 150_000; i++) {
      hashMessageId(1, `c-${i}`, h);
      const home = h[0]! & mask;
      byHome.set(home, [...(byHome.get(home) ?? []), `c-${i}`]);
    }
    const sharing = [...byHome.values()].filter((ids) => ids.length > 1).flat();
    expect(sharing.length).toBeGreaterThan(20);
    const ids = [...sharing, ...Array.from({ length: 200 }, (_, i) => `c-${i}`).filter((id) => !sharing.includes(id))];
    ids.slice(0, 10).forEach((id, i) => ix.add(1, id, i, BigInt(i), T0));
    ix.reserve(100_000_000);
    ids.forEach((id, i) => ix.add(1, id, i, BigInt(i), T0 + 1));
    expect(ix.size).toBe(ids.length);
    ids.forEach((id, i) => expect(ix.find(1, id, WINDOW, T0 + 1), id).toEqual({ partition: i, offset: BigInt(i), timeMs: T0 + 1 }));
    // Taking out every other one shifts its probe run back.
    ids.forEach((id, i) => i % 2 === 0 && ix.withdraw(1, id, i, BigInt(i)));
    ids.forEach((id, i) => expect(ix.find(1, id, WINDOW, T0 + 1)?.offset, id).toBe(i % 2 === 0 ? undefined : BigInt(i)));
    expect(ix.find(2, ids[1]!, WINDOW, T0 + 1)).toBeUndefined();
  });
});
