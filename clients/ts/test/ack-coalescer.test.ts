import { describe, expect, it } from "vitest";
import { AckCoalescer, type VerbBatch } from "../src/ack-coalescer.js";

function drain<W>(c: AckCoalescer<W>): VerbBatch<W>[] {
  const out: VerbBatch<W>[] = [];
  for (let b = c.next(); b; b = c.next()) out.push(b);
  return out;
}

function summary<W>(b: VerbBatch<W>) {
  const positions = b.positions.map((p) => `${p.partition}:${p.offset}`);
  switch (b.verb) {
    case "ack":
      return { ack: positions };
    case "nack":
      return { nack: positions, delayMs: b.delayMs < 0 ? "unset" : b.delayMs };
    case "extend":
      return { extend: positions, deadlineMs: b.deadlineMs };
  }
}

describe("AckCoalescer", () => {
  it("puts every ack recorded before a write into one request", () => {
    const c = new AckCoalescer();
    for (let i = 0; i < 500; i++) c.ack(i % 3, BigInt(i));
    expect(c.size).toBe(500);
    const requests = drain(c);
    expect(requests).toHaveLength(1);
    expect(summary(requests[0]!).ack).toHaveLength(500);
    expect(c.size).toBe(0);
  });

  it("groups nacks by delay and extensions by deadline", () => {
    const c = new AckCoalescer();
    c.nack(0, 1n, -1);
    c.nack(0, 2n, 5000);
    c.nack(1, 3n, -1);
    c.nack(1, 7n, 0);
    c.extend(0, 4n, 30_000);
    c.extend(1, 5n, 30_000);
    c.extend(0, 6n, 60_000);
    expect(drain(c).map(summary)).toEqual([
      { extend: ["0:4", "1:5"], deadlineMs: 30_000 },
      { extend: ["0:6"], deadlineMs: 60_000 },
      { nack: ["0:1", "1:3"], delayMs: "unset" },
      { nack: ["0:2"], delayMs: 5000 },
      { nack: ["1:7"], delayMs: 0 },
    ]);
  });

  it("writes extensions before acks so an extension never follows its message's ack", () => {
    const c = new AckCoalescer();
    c.ack(0, 1n);
    c.extend(0, 2n, 10_000);
    c.nack(0, 3n, 0);
    expect(drain(c).map((b) => b.verb)).toEqual(["extend", "ack", "nack"]);
  });

  it("splits more than 10 000 positions into several requests", () => {
    const c = new AckCoalescer();
    for (let i = 0; i < 25_000; i++) c.ack(0, BigInt(i));
    const sizes = drain(c).map((b) => b.positions.length);
    expect(sizes).toEqual([10_000, 10_000, 5000]);
  });

  it("keeps what was not taken for a later write, in order", () => {
    const c = new AckCoalescer();
    c.ack(0, 1n);
    c.nack(0, 2n, 0);
    expect(c.next()?.verb).toBe("ack");
    c.ack(0, 3n);
    expect(drain(c).map(summary)).toEqual([{ ack: ["0:3"] }, { nack: ["0:2"], delayMs: 0 }]);
  });

  it("keeps only the acks when a stream ends, since the other verbs refer to its leases", () => {
    const c = new AckCoalescer();
    c.ack(0, 1n);
    c.nack(0, 2n, 0);
    c.extend(0, 3n, 5000);
    c.keepOnlyAcks();
    expect(c.size).toBe(1);
    expect(drain(c).map(summary)).toEqual([{ ack: ["0:1"] }]);
  });

  it("returns nothing when nothing was recorded, and forgets everything on clear", () => {
    const c = new AckCoalescer();
    expect(c.next()).toBeUndefined();
    c.ack(0, 1n);
    c.clear();
    expect(c.next()).toBeUndefined();
    expect(c.size).toBe(0);
  });

  it("hands out the waiters recorded with a batch's positions, split along with them", () => {
    const c = new AckCoalescer<string>();
    for (let i = 0; i < 10_002; i++) c.ack(0, BigInt(i), i % 2 === 0 ? `w${i}` : undefined);
    c.nack(0, 20_000n, 100, "n1");
    const [first, second, third] = drain(c);
    expect(first!.waiters).toHaveLength(5000);
    expect(first!.waiters[0]).toBe("w0");
    expect(second).toMatchObject({ verb: "ack", waiters: ["w10000"] });
    expect(second!.positions).toHaveLength(2);
    expect(third).toMatchObject({ verb: "nack", waiters: ["n1"], delayMs: 100 });
  });

  it("returns the waiters of what it forgets, so the caller can settle them", () => {
    const c = new AckCoalescer<string>();
    c.ack(0, 1n, "a");
    c.nack(0, 2n, -1, "n");
    c.extend(0, 3n, 5000, "e");
    expect(c.keepOnlyAcks().sort()).toEqual(["e", "n"]);
    c.nack(0, 4n, -1, "n2");
    expect(c.clear().sort()).toEqual(["a", "n2"]);
    expect(c.size).toBe(0);
  });
});
