import { durationMs } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { AckCoalescer } from "../src/ack-coalescer.js";
import type { SubscribeRequest } from "../src/gen/sluice/v1/broker_pb.js";

function drain(c: AckCoalescer): SubscribeRequest[] {
  const out: SubscribeRequest[] = [];
  for (let r = c.next(); r; r = c.next()) out.push(r);
  return out;
}

function summary(r: SubscribeRequest) {
  const req = r.request;
  switch (req.case) {
    case "ack":
      return { ack: req.value.positions.map((p) => `${p.partition}:${p.offset}`) };
    case "nack":
      return { nack: req.value.positions.map((p) => `${p.partition}:${p.offset}`), delayMs: req.value.delay ? durationMs(req.value.delay) : "unset" };
    case "extend":
      return { extend: req.value.positions.map((p) => `${p.partition}:${p.offset}`), deadlineMs: durationMs(req.value.deadline!) };
    default:
      return { other: req.case };
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
    expect(drain(c).map((r) => r.request.case)).toEqual(["extend", "ack", "nack"]);
  });

  it("splits more than 10 000 positions into several requests", () => {
    const c = new AckCoalescer();
    for (let i = 0; i < 25_000; i++) c.ack(0, BigInt(i));
    const sizes = drain(c).map((r) => (summary(r).ack ?? []).length);
    expect(sizes).toEqual([10_000, 10_000, 5000]);
  });

  it("keeps what was not taken for a later write, in order", () => {
    const c = new AckCoalescer();
    c.ack(0, 1n);
    c.nack(0, 2n, 0);
    expect(c.next()?.request.case).toBe("ack");
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
});
