import { describe, expect, it } from "vitest";
import { checkCommittedMonotonic, checkGroup, checkLog, type LogEntry } from "./support/checks.js";
import { History } from "./support/history.js";

// The history checks must catch what they claim to catch, or a green crash
// loop proves nothing. Each case is the smallest history with one fault.

const entry = (partition: number, offset: bigint, messageId: string, key = ""): LogEntry => ({ partition, offset, messageId, key });

function published(h: History, log: LogEntry[]): void {
  for (const e of log) h.publishes.push({ seq: h.next(), messageId: e.messageId, key: e.key, partition: e.partition, offset: e.offset, duplicate: false });
}

function deliver(h: History, group: string, e: LogEntry, lifetime = 1, attempt = 1): void {
  h.deliveries.push({ seq: h.next(), group, consumer: "c", lifetime, partition: e.partition, offset: e.offset, attempt, key: e.key, messageId: e.messageId });
}

function ack(h: History, group: string, e: LogEntry, opts: { lifetime?: number; confirm?: boolean; ignored?: boolean } = {}): void {
  const ackId = h.nextAckId();
  h.acksSent.push({ seq: h.next(), group, lifetime: opts.lifetime ?? 1, ackId, positions: [{ partition: e.partition, offset: e.offset }] });
  if (opts.confirm) {
    h.acksConfirmed.push({ seq: h.next(), group, ackId, ignored: new Set(opts.ignored ? [`${e.partition}/${e.offset}`] : []) });
  }
}

describe("the log check", () => {
  const log = [entry(0, 0n, "a"), entry(0, 1n, "b")];

  it("accepts a dense log holding each confirmed publish once at its offset", () => {
    const h = new History();
    published(h, log);
    expect(checkLog(log, [2n], h, true).violations).toEqual([]);
  });

  it("reports a hole, a confirmed publish that is missing, and a copy when deduplicating", () => {
    const h = new History();
    published(h, [...log, entry(0, 2n, "c")]);
    const stored = [entry(0, 0n, "a"), entry(0, 1n, "b"), entry(0, 3n, "a")];
    const v = checkLog(stored, [4n], h, true);
    expect(v.lost).toBe(1);
    expect(v.duplicates).toBe(1);
    expect(v.violations.join("\n")).toMatch(/hole at offset 2/);
    expect(v.violations.join("\n")).toMatch(/a is stored 2 times/);
  });

  it("counts a copy without failing when the broker does not deduplicate", () => {
    const h = new History();
    published(h, log);
    const v = checkLog([...log, entry(0, 2n, "a")], [3n], h, false);
    expect(v.violations).toEqual([]);
    expect(v.duplicates).toBe(1);
  });
});

describe("the group check", () => {
  it("reports a message never delivered and one delivered after its ack was confirmed", () => {
    const log = [entry(0, 0n, "a"), entry(0, 1n, "b")];
    const h = new History();
    deliver(h, "g", log[0]!);
    ack(h, "g", log[0]!, { confirm: true });
    deliver(h, "g", log[0]!, 2, 2);
    const v = checkGroup("g", log, h, false);
    expect(v.redelivered).toBe(1);
    expect(v.violations.join("\n")).toMatch(/never given 0\/1/);
    expect(v.violations.join("\n")).toMatch(/after its ack was confirmed durable/);
  });

  it("accepts the redelivery of a message whose ack was sent but not confirmed before a crash", () => {
    const log = [entry(0, 0n, "a")];
    const h = new History();
    deliver(h, "g", log[0]!);
    ack(h, "g", log[0]!);
    deliver(h, "g", log[0]!, 2, 1);
    expect(checkGroup("g", log, h, false).violations).toEqual([]);
  });

  it("reports, for an ordered group, a key's next message delivered before the previous one was acked", () => {
    const log = [entry(0, 0n, "a", "k"), entry(0, 1n, "b", "k")];
    const h = new History();
    deliver(h, "g", log[0]!);
    deliver(h, "g", log[1]!);
    ack(h, "g", log[0]!);
    ack(h, "g", log[1]!);
    expect(checkGroup("g", log, h, true).violations.join("\n")).toMatch(/before an earlier message of the key was acked/);
    expect(checkGroup("g", log, h, false).violations).toEqual([]);
  });

  it("reports, for an ordered group, a key that skips past a redelivered message within one broker life", () => {
    const log = [entry(0, 0n, "a", "k"), entry(0, 1n, "b", "k")];
    const h = new History();
    deliver(h, "g", log[0]!);
    ack(h, "g", log[0]!); // life 1: acked, maybe not durably
    deliver(h, "g", log[0]!, 2, 1); // life 2: the broker lost the ack and redelivers a
    deliver(h, "g", log[1]!, 2); // ...but hands out b before a is acked again
    ack(h, "g", log[0]!, { lifetime: 2 });
    ack(h, "g", log[1]!, { lifetime: 2 });
    expect(checkGroup("g", log, h, true).violations.join("\n")).toMatch(/while 0\/0 of the same key was delivered and not acked/);
  });

  it("does not count an ack the broker reported as ignored as releasing the key", () => {
    const log = [entry(0, 0n, "a", "k"), entry(0, 1n, "b", "k")];
    const h = new History();
    deliver(h, "g", log[0]!);
    ack(h, "g", log[0]!, { confirm: true, ignored: true });
    deliver(h, "g", log[1]!);
    ack(h, "g", log[0]!);
    ack(h, "g", log[1]!);
    expect(checkGroup("g", log, h, true).violations.length).toBeGreaterThan(0);
  });
});

describe("the committed offset check", () => {
  it("reports a committed offset that moved backwards across a restart", () => {
    const h = new History();
    h.samples.push({ seq: h.next(), group: "g", lifetime: 1, committed: [5n] });
    h.samples.push({ seq: h.next(), group: "g", lifetime: 2, committed: [4n] });
    expect(checkCommittedMonotonic(h)).toHaveLength(1);
  });
});
