import { describe, expect, it } from "vitest";
import { BrokerError } from "../../src/broker/broker-error.js";
import { checkDeadline, checkGroupSettings } from "../../src/broker/check-group-settings.js";
import { DEFAULT_GROUP_SETTINGS, type GroupSettings } from "../../src/broker/types.js";

const topics = new Set(["t", "dlq"]);
const topicOf = (name: string): string => {
  if (!topics.has(name)) throw new BrokerError("not-found", `topic ${name} does not exist`);
  return name;
};

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(BrokerError);
    return (err as BrokerError).code;
  }
  return undefined;
}

function check(changes: Partial<GroupSettings>): GroupSettings {
  return checkGroupSettings({ ...DEFAULT_GROUP_SETTINGS, ...changes }, "t", topicOf);
}

describe("group settings checks", () => {
  it("replaces an ack deadline of 0 with the default and keeps the other fields", () => {
    const s = check({ ackDeadlineMs: 0, ordered: true, maxDeliveries: 3, deadLetterTopic: "dlq" });
    expect(s).toEqual({ ...DEFAULT_GROUP_SETTINGS, ordered: true, maxDeliveries: 3, deadLetterTopic: "dlq" });
  });

  it("rejects ack deadlines outside 1s to 600s", () => {
    expect(codeOf(() => check({ ackDeadlineMs: 999 }))).toBe("invalid-argument");
    expect(codeOf(() => check({ ackDeadlineMs: 600_001 }))).toBe("invalid-argument");
    expect(check({ ackDeadlineMs: 600_000 }).ackDeadlineMs).toBe(600_000);
  });

  it("rejects a retry backoff whose min exceeds its max or 600s", () => {
    expect(codeOf(() => check({ retryBackoffMinMs: 2000, retryBackoffMaxMs: 1000 }))).toBe("invalid-argument");
    expect(codeOf(() => check({ retryBackoffMinMs: 0, retryBackoffMaxMs: 600_001 }))).toBe("invalid-argument");
    expect(codeOf(() => check({ retryBackoffMinMs: -1 }))).toBe("invalid-argument");
  });

  it("rejects a negative or fractional delivery limit", () => {
    expect(codeOf(() => check({ maxDeliveries: -1 }))).toBe("invalid-argument");
    expect(codeOf(() => check({ maxDeliveries: 1.5 }))).toBe("invalid-argument");
  });

  it("rejects a dead-letter topic that is the group's own, badly named or missing", () => {
    expect(codeOf(() => check({ deadLetterTopic: "t" }))).toBe("invalid-argument");
    expect(codeOf(() => check({ deadLetterTopic: "bad name" }))).toBe("invalid-argument");
    expect(codeOf(() => check({ deadLetterTopic: "missing" }))).toBe("not-found");
  });

  it("accepts deadlines from 1s to 600s and names the field otherwise", () => {
    expect(checkDeadline(1000, "deadline")).toBe(1000);
    expect(() => checkDeadline(Number.NaN, "deadline")).toThrow(/^deadline must be between 1s and 600s/);
  });
});
