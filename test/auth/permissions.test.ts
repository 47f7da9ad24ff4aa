import { describe, expect, it } from "vitest";
import { describeNeed, Grants, NamePattern } from "../../src/server/auth/permissions.js";

const p = (...patterns: string[]) => patterns.map((s) => NamePattern.parse(s));

describe("NamePattern", () => {
  it.each([
    ["orders", "orders", true],
    ["orders", "orders.eu", false],
    ["orders.*", "orders.eu", true],
    ["orders.*", "orders", false],
    ["orders*", "orders-archive", true],
    ["*", "anything", true],
  ])("%s matching %s is %s", (pattern, name, expected) => {
    expect(NamePattern.parse(pattern).matches(name)).toBe(expected);
  });

  it.each(["", "or*ders", "**", "a b", "orders/*"])("refuses %j", (pattern) => {
    expect(() => NamePattern.parse(pattern)).toThrow();
  });
});

describe("Grants", () => {
  const grants = new Grants(p("orders.*"), [{ topics: p("orders.*"), groups: p("billing") }, { topics: p("audit"), groups: "any" }], p("orders.eu"));

  it("allows each permission only on its own patterns", () => {
    expect(grants.allows({ permission: "publish", topic: "orders.eu" })).toBe(true);
    expect(grants.allows({ permission: "publish", topic: "audit" })).toBe(false);
    expect(grants.allows({ permission: "admin", topic: "orders.eu" })).toBe(true);
    expect(grants.allows({ permission: "admin", topic: "orders.us" })).toBe(false);
  });

  it("narrows subscribe to the listed groups", () => {
    expect(grants.allows({ permission: "subscribe", topic: "orders.eu", group: "billing" })).toBe(true);
    expect(grants.allows({ permission: "subscribe", topic: "orders.eu", group: "shipping" })).toBe(false);
    expect(grants.allows({ permission: "subscribe", topic: "audit", group: "shipping" })).toBe(true);
  });

  it("answers 'on any topic' by whether the permission has a pattern at all", () => {
    expect(grants.allows({ permission: "admin", anyTopic: true })).toBe(true);
    expect(Grants.NONE.allows({ permission: "admin", anyTopic: true })).toBe(false);
  });
});

describe("describeNeed", () => {
  it("names the permission, the topic and the group", () => {
    expect(describeNeed({ permission: "subscribe", topic: "orders", group: "billing" })).toBe('subscribe on topic "orders" with group "billing"');
    expect(describeNeed({ permission: "admin", anyTopic: true })).toBe("admin on any topic");
  });
});
