import { describe, expect, it } from "vitest";
import type { GroupPartition } from "../../src/broker/group-partition.js";
import { HeldLeases } from "../../src/broker/held-leases.js";
import { LeaseTimeline } from "../../src/broker/lease-timeline.js";
import { type LinkedLease, newLease } from "../../src/broker/linked-lease.js";
import type { Subscription } from "../../src/broker/subscription.js";

function lease(offset: number, deadline: number): LinkedLease {
  return newLease({} as GroupPartition, BigInt(offset), 1, "", {} as Subscription, deadline);
}

const offsets = (ls: Iterable<LinkedLease>) => [...ls].map((l) => Number(l.offset)).sort((a, b) => a - b);

describe("HeldLeases", () => {
  it("counts and lists what was added and not removed", () => {
    const held = new HeldLeases();
    const ls = [0, 1, 2, 3, 4].map((o) => lease(o, 1000));
    for (const l of ls) held.add(l);
    held.delete(ls[0]!); // the oldest
    held.delete(ls[4]!); // the newest
    held.delete(ls[2]!); // one in the middle
    expect(held.size).toBe(2);
    expect(offsets(held)).toEqual([1, 3]);
  });

  it("ignores removing a lease it does not hold, or removing one twice", () => {
    const held = new HeldLeases();
    const a = lease(1, 1000);
    const b = lease(2, 1000);
    held.add(a);
    held.delete(b);
    held.delete(a);
    held.delete(a);
    expect(held.size).toBe(0);
    expect([...held]).toEqual([]);
    held.add(a);
    expect(offsets(held)).toEqual([1]);
  });

  it("lets the current lease be removed while iterating", () => {
    const held = new HeldLeases();
    for (let o = 0; o < 10; o++) held.add(lease(o, 1000));
    const seen: number[] = [];
    for (const l of held) {
      seen.push(Number(l.offset));
      held.delete(l);
    }
    expect(seen.sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(held.size).toBe(0);
  });
});

describe("LeaseTimeline", () => {
  it("expires leases by deadline bucket, and never removed ones", () => {
    const t = new LeaseTimeline();
    const early = [lease(0, 1010), lease(1, 1020), lease(2, 1024)];
    const late = [lease(3, 2000), lease(4, 2001)];
    for (const l of [...early, ...late]) t.add(l);
    t.remove(early[1]!);
    expect(t.next()).toBe(1025);
    expect(t.expired(1024)).toEqual([]);
    expect(offsets(t.expired(1025))).toEqual([0, 2]);
    expect(t.next()).toBe(2000);
    expect(offsets(t.expired(5000))).toEqual([3, 4]);
    expect(t.next()).toBeUndefined();
  });

  it("skips buckets emptied by removals when asked for the next deadline", () => {
    const t = new LeaseTimeline();
    const a = lease(0, 100);
    const b = lease(1, 300);
    t.add(a);
    t.add(b);
    t.remove(a);
    expect(t.next()).toBe(300);
    // A lease added to an emptied, dropped bucket still expires.
    const c = lease(2, 100);
    t.add(c);
    expect(t.next()).toBe(100);
    expect(offsets(t.expired(100))).toEqual([2]);
  });

  it("moves a lease to its new deadline", () => {
    const t = new LeaseTimeline();
    const a = lease(0, 100);
    const b = lease(1, 100);
    t.add(a);
    t.add(b);
    t.move(a, 5000);
    expect(a.deadline).toBe(5000);
    expect(offsets(t.expired(1000))).toEqual([1]);
    expect(offsets(t.expired(5000))).toEqual([0]);
  });

  it("ignores removing a lease twice, or one it expired or cleared", () => {
    const t = new LeaseTimeline();
    const a = lease(0, 100);
    const b = lease(1, 100);
    const c = lease(2, 200);
    for (const l of [a, b, c]) t.add(l);
    t.remove(a);
    t.remove(a);
    expect(offsets(t.expired(100))).toEqual([1]);
    t.remove(b);
    t.clear();
    t.remove(c);
    expect(t.next()).toBeUndefined();
    expect(c.slot).toBeNull();
    t.add(c);
    expect(offsets(t.expired(1000))).toEqual([2]);
  });

  it("agrees with a plain model under random adds, moves and removals", () => {
    let seed = 3;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const t = new LeaseTimeline();
    const live = new Map<LinkedLease, number>();
    let now = 0;
    for (let i = 0; i < 5000; i++) {
      const r = rand();
      if (r < 0.5) {
        const l = lease(i, now + 1 + Math.floor(rand() * 500));
        t.add(l);
        live.set(l, l.deadline);
      } else if (r < 0.7 && live.size > 0) {
        const l = [...live.keys()][Math.floor(rand() * live.size)]!;
        t.remove(l);
        live.delete(l);
      } else if (r < 0.8 && live.size > 0) {
        const l = [...live.keys()][Math.floor(rand() * live.size)]!;
        t.move(l, now + 1 + Math.floor(rand() * 500));
        live.set(l, l.deadline);
      } else {
        now += Math.floor(rand() * 50);
        const out = t.expired(now);
        // Everything due by the bucket ending at `now` comes out, nothing later.
        for (const l of out) {
          expect(live.has(l)).toBe(true);
          expect(Math.ceil(l.deadline / 25) * 25).toBeLessThanOrEqual(now);
          live.delete(l);
        }
        for (const d of live.values()) expect(Math.ceil(d / 25) * 25).toBeGreaterThan(now);
      }
    }
    const rest = t.expired(Infinity);
    expect(new Set(rest)).toEqual(new Set(live.keys()));
  });
});
