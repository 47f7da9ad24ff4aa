import { describe, expect, it } from "vitest";
import { DedupeIndex, type DedupeHit } from "../../src/broker/dedupe-index.js";
import { hashMessageId } from "../../src/broker/id-hash.js";

const T0 = 1_700_000_000_000;
const DAY = 86_400_000;

/** A seeded generator of floats in [0, 1) (mulberry32). */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Slot {
  readonly key: string;
  readonly topicId: number;
  readonly id: string;
  readonly partition: number;
  readonly offset: number;
  readonly timeMs: number;
  alive: boolean;
}

/**
 * What the class comment of DedupeIndex says, with plain objects: a ring of
 * entries in the order added (its slots, dead ones included, growing by
 * doubling up to the cap's power of two, squeezed or evicting when full), a
 * Map of the live ones, and the time epoch's rule.
 */
class Model {
  slots: Slot[] = [];
  readonly live = new Map<string, Slot>();
  capacity = 1024;
  readonly maxCapacity: number;
  epoch = NaN;
  fullCalls = 0;

  constructor(
    readonly maxEntries: number,
    readonly windowOf: (topicId: number) => number,
  ) {
    this.maxCapacity = nextPowerOfTwo(maxEntries);
  }

  find(topicId: number, id: string, windowMs: number, now: number): DedupeHit | undefined {
    const s = this.live.get(`${topicId}/${id}`);
    if (s === undefined || !(now < s.timeMs + windowMs)) return undefined;
    return { partition: s.partition, offset: BigInt(s.offset), timeMs: s.timeMs };
  }

  add(topicId: number, id: string, partition: number, offset: number, timeMs: number): void {
    this.expire(timeMs);
    const old = this.live.get(`${topicId}/${id}`);
    if (old !== undefined) this.kill(old);
    this.append(topicId, id, partition, offset, timeMs);
  }

  restore(topicId: number, id: string, partition: number, offset: number, timeMs: number, now: number): void {
    if (now < timeMs + this.windowOf(topicId)) this.append(topicId, id, partition, offset, timeMs);
  }

  reserve(n: number): void {
    const capacity = nextPowerOfTwo(Math.min(this.live.size + n, this.maxEntries));
    if (capacity > this.capacity) this.squeeze(capacity);
  }

  withdraw(topicId: number, id: string, partition: number, offset: number): void {
    const s = this.live.get(`${topicId}/${id}`);
    if (s !== undefined && s.partition === partition && s.offset === offset) this.kill(s);
  }

  expire(now: number): void {
    while (this.slots.length > 0) {
      const s = this.slots[0]!;
      if (s.alive) {
        if (now < s.timeMs + this.windowOf(s.topicId)) return;
        this.kill(s);
      }
      this.slots.shift();
    }
  }

  clear(topicId: number): void {
    for (const s of this.slots) if (s.alive && s.topicId === topicId) this.kill(s);
  }

  private append(topicId: number, id: string, partition: number, offset: number, timeMs: number): void {
    if (!(timeMs >= this.epoch && timeMs < this.epoch + 2 ** 32)) {
      // The epoch moves to 2^31 ms before the time; what it cannot express goes.
      this.epoch = timeMs - 2 ** 31;
      for (const s of this.slots) if (s.alive && !(s.timeMs >= this.epoch && s.timeMs < this.epoch + 2 ** 32)) this.kill(s);
    }
    if (this.slots.length === this.capacity) {
      if (this.capacity < this.maxCapacity) this.squeeze(this.capacity * 2);
      else if (this.slots.length - this.live.size >= this.capacity / 8) this.squeeze(this.capacity);
      else this.evictHead();
    }
    const s: Slot = { key: `${topicId}/${id}`, topicId, id, partition, offset, timeMs, alive: true };
    this.slots.push(s);
    this.live.set(s.key, s);
    while (this.live.size > this.maxEntries) this.evictHead();
  }

  private squeeze(capacity: number): void {
    this.slots = this.slots.filter((s) => s.alive);
    this.capacity = capacity;
  }

  private evictHead(): void {
    while (this.slots.length > 0) {
      const s = this.slots.shift()!;
      if (s.alive) {
        this.fullCalls = 1;
        this.kill(s);
        return;
      }
    }
  }

  private kill(s: Slot): void {
    s.alive = false;
    this.live.delete(s.key);
  }
}

function nextPowerOfTwo(n: number): number {
  let p = 1024;
  while (p < n) p *= 2;
  return p;
}

interface Config {
  readonly seed: number;
  readonly maxEntries: number;
  /** Distinct ids per topic drawn from. */
  readonly ids: number;
  readonly ops: number;
  /** Allows the clock to jump ~30 days either way and windows past the epoch's reach. */
  readonly farJumps: boolean;
}

/** Drives the index and the model through the same random operations, comparing them at every step. */
function run(config: Config): { adds: number; hits: number; maxSize: number } {
  const rnd = random(config.seed);
  const int = (n: number): number => Math.floor(rnd() * n);
  const windows = new Map<number, number>([
    [0, 50],
    [1, 400],
    [2, 5_000],
    [3, 120_000],
    [4, DAY],
    [5, config.farJumps ? 40 * DAY : 0],
  ]);
  const topics = [...windows.keys()];
  const windowOf = (topicId: number): number => windows.get(topicId) ?? 0;
  let fullCalls = 0;
  const ix = new DedupeIndex(config.maxEntries, windowOf, () => fullCalls++);
  const model = new Model(config.maxEntries, windowOf);
  const hash = new Uint32Array(3);
  let now = T0;
  let adds = 0;
  let hits = 0;
  let maxSize = 0;
  /** The last ids added, so that lookups and repeats often name a held id. */
  const recent: [number, string][] = [];
  const pick = (): [number, string] =>
    recent.length > 0 && rnd() < 0.5 ? recent[int(recent.length)]! : [topics[int(topics.length)]!, `m${int(config.ids)}`];

  const compareAll = (step: number): void => {
    const seen: unknown[] = [];
    ix.forEach((topicId, h0, h1, h2, partition, offset, timeMs) => seen.push([topicId, h0, h1, h2, partition, offset, timeMs]));
    const want = model.slots
      .filter((s) => s.alive)
      .map((s) => {
        hashMessageId(s.topicId, s.id, hash);
        return [s.topicId, hash[0], hash[1], hash[2], s.partition, s.offset, s.timeMs];
      });
    expect(seen, `entries at step ${step}`).toEqual(want);
    for (const t of topics) expect(ix.topicSize(t)).toBe(model.slots.filter((s) => s.alive && s.topicId === t).length);
  };

  for (let step = 0; step < config.ops; step++) {
    const r = rnd();
    if (r < 0.35) {
      const [t, id] = pick();
      const partition = rnd() < 0.1 ? 65_535 : int(65_536);
      const offset = rnd() < 0.2 ? 2 ** 32 + int(2 ** 40) : int(1000);
      ix.add(t, id, partition, BigInt(offset), now);
      model.add(t, id, partition, offset, now);
      adds++;
      if (recent.push([t, id]) > 64) recent.shift();
    } else if (r < 0.65) {
      const [t, id] = pick();
      const windowMs = rnd() < 0.8 ? windowOf(t) : int(10_000);
      const at = now + int(200) - 100;
      const got = ix.find(t, id, windowMs, at);
      expect(got, `find ${t}/${id} at step ${step}`).toEqual(model.find(t, id, windowMs, at));
      if (got !== undefined) hits++;
    } else if (r < 0.7) {
      const [t, id] = pick();
      const s = model.live.get(`${t}/${id}`);
      const [partition, offset] = s !== undefined && rnd() < 0.7 ? [s.partition, s.offset] : [int(3), int(1000)];
      ix.withdraw(t, id, partition, BigInt(offset));
      model.withdraw(t, id, partition, offset);
    } else if (r < 0.73) {
      const at = now + int(2000) - 1000;
      ix.expire(at);
      model.expire(at);
    } else if (r < 0.731) {
      // Topic 4's entries are cleared only now and then.
      const t = topics[int(topics.length)]!;
      if (t !== 4 || rnd() < 0.2) {
        ix.clear(t);
        model.clear(t);
      }
    } else if (r < 0.79) {
      // A snapshot entry of an id the index does not hold.
      const [t, id] = pick();
      if (!model.live.has(`${t}/${id}`)) {
        const timeMs = now - int(windowOf(t) + 1000);
        const partition = int(65_536);
        const offset = int(2 ** 53);
        hashMessageId(t, id, hash);
        ix.restore(t, hash[0]!, hash[1]!, hash[2]!, partition, offset, timeMs, now);
        model.restore(t, id, partition, offset, timeMs, now);
      }
    } else if (r < 0.7905) {
      const n = int(500);
      ix.reserve(n);
      model.reserve(n);
    } else if (r < 0.795) {
      // A window changed (the index reads the current one); topic 4 keeps a day's, holding back the rest.
      const t = 1 + int(3);
      windows.set(t, 100 + int(200_000));
    } else if (r < 0.9) {
      now += int(20);
    } else if (r < 0.97) {
      now -= int(50);
    } else if (r < 0.98) {
      // Past a window.
      now += int(300_000);
    } else if (r < 0.997) {
      now += int(1000);
    } else if (rnd() < 0.05) {
      // Past every window, or ~30 days either way (past the time epoch's reach).
      if (config.farJumps) now += (rnd() < 0.75 ? 1 : -1) * (30 * DAY + int(DAY));
      else now += DAY + int(DAY);
    }
    expect(ix.size, `size at step ${step}`).toBe(model.live.size);
    maxSize = Math.max(maxSize, ix.size);
    if (step % 1000 === 999) compareAll(step);
  }
  compareAll(config.ops);
  expect(fullCalls).toBe(model.fullCalls);
  return { adds, hits, maxSize };
}

describe("dedupe index against a plain model", () => {
  it.each([
    { seed: 1, maxEntries: 3, ids: 20, ops: 20_000, farJumps: false },
    { seed: 2, maxEntries: 300, ids: 400, ops: 30_000, farJumps: false },
    { seed: 3, maxEntries: 2_000, ids: 3_000, ops: 40_000, farJumps: false },
    { seed: 4, maxEntries: 5_000, ids: 8_000, ops: 60_000, farJumps: false },
    { seed: 5, maxEntries: 2_000, ids: 1_000, ops: 40_000, farJumps: true },
    // Just under the ring's size: a ring full with few dead slots evicts rather than squeezes.
    { seed: 6, maxEntries: 1_000, ids: 3_000, ops: 30_000, farJumps: false },
  ])("agrees on every answer and size: %o", (config) => {
    const { adds, hits, maxSize } = run(config);
    // The run exercised what it is for.
    expect(adds).toBeGreaterThan(config.ops / 4);
    expect(hits).toBeGreaterThan(config.ops / 100);
    expect(maxSize).toBeLessThanOrEqual(config.maxEntries);
    if (config.maxEntries >= 1_500 && !config.farJumps) expect(maxSize).toBeGreaterThan(1024);
  });
});
