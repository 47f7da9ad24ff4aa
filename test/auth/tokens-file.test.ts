import { describe, expect, it } from "vitest";
import { SecurityConfigError } from "../../src/server/auth/security-config-error.js";
import { hashToken, parseTokensFile } from "../../src/server/auth/tokens-file.js";

const H1 = hashToken("token-one");
const H2 = hashToken("token-two");
const parse = (text: string) => parseTokensFile(text, "tokens.yaml");
const failure = (text: string) => {
  try {
    parse(text);
  } catch (err) {
    expect(err).toBeInstanceOf(SecurityConfigError);
    return (err as Error).message;
  }
  throw new Error("expected the file to be refused");
};

describe("hashToken", () => {
  it("is the lowercase hex SHA-256 of the token's UTF-8 bytes, as `printf %s TOKEN | sha256sum` prints it", () => {
    expect(hashToken("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  });
});

describe("parseTokensFile", () => {
  it("reads YAML with comments, token lists, certificate subjects and both subscribe forms", () => {
    const table = parse(`
# who may do what
identities:
  - name: orders-service
    token_sha256: [${H1}, ${H2.toUpperCase()}]   # two during a rotation
    publish: [orders, "orders.*"]
    subscribe:
      - payments
      - { topics: ["refunds.*"], groups: [orders-service] }
  - name: analytics
    cert_subject: { CN: analytics, O: Acme }
    admin: "*"
`);
    expect(table.identities.map((i) => i.name)).toEqual(["orders-service", "analytics"]);
    const [orders, analytics] = table.identities;
    expect(orders!.tokenDigests.map((d) => d.toString("hex"))).toEqual([H1, H2]);
    expect(orders!.grants.allows({ permission: "publish", topic: "orders.eu" })).toBe(true);
    expect(orders!.grants.allows({ permission: "subscribe", topic: "payments", group: "any-group" })).toBe(true);
    expect(orders!.grants.allows({ permission: "subscribe", topic: "refunds.eu", group: "orders-service" })).toBe(true);
    expect(orders!.grants.allows({ permission: "subscribe", topic: "refunds.eu", group: "other" })).toBe(false);
    expect(orders!.grants.allows({ permission: "admin", topic: "orders" })).toBe(false);
    expect(analytics!.certSubject).toEqual({ CN: "analytics", O: "Acme" });
    expect(analytics!.grants.allows({ permission: "admin", topic: "anything" })).toBe(true);
  });

  it("reads JSON", () => {
    const table = parse(JSON.stringify({ identities: [{ name: "a", token_sha256: H1, publish: ["t"] }] }));
    expect(table.identities[0]!.grants.allows({ permission: "publish", topic: "t" })).toBe(true);
  });

  it("keeps a digest of digits and one 'e' a string rather than reading a number", () => {
    const digits = `${"1".repeat(60)}e123`;
    expect(parse(`identities:\n  - name: a\n    token_sha256: ${digits}\n`).identities[0]!.tokenDigests[0]!.toString("hex")).toBe(digits);
  });

  it("accepts an empty list of identities (nobody may do anything)", () => {
    expect(parse("identities: []").identities).toEqual([]);
  });

  it.each([
    ["not YAML", "identities: [", /^tokens file tokens\.yaml: not valid YAML or JSON: /],
    ["no identities key", "users: []", "tokens file tokens.yaml: expected a mapping with one key, `identities` (a list)"],
    ["a plain token", `identities:\n  - name: a\n    token: secret`, /identities\[0\] \(a\): unknown key `token`; store the token's SHA-256 as `token_sha256`/],
    ["a misspelt permission", `identities:\n  - name: a\n    token_sha256: ${H1}\n    pubish: [t]`, /identities\[0\] \(a\): unknown key `pubish`/],
    ["a token where the digest goes", `identities:\n  - name: a\n    token_sha256: secret`, /identities\[0\] \(a\)\.token_sha256\[0\]: expected 64 hex digits/],
    ["no credential", `identities:\n  - name: a\n    publish: [t]`, /identities\[0\] \(a\): give `token_sha256` or `cert_subject`/],
    ["a repeated name", `identities:\n  - {name: a, token_sha256: ${H1}}\n  - {name: a, token_sha256: ${H2}}`, /identities\[1\] \(a\): the name is used by an earlier identity/],
    ["a shared token", `identities:\n  - {name: a, token_sha256: ${H1}}\n  - {name: b, token_sha256: ${H1}}`, /identities\[1\] \(b\)\.token_sha256\[0\]: the same token is already given to a/],
    ["a shared subject", `identities:\n  - {name: a, cert_subject: {CN: x}}\n  - {name: b, cert_subject: {CN: x}}`, /identities\[1\] \(b\)\.cert_subject: the same subject is already given to a/],
    ["a wildcard inside a pattern", `identities:\n  - {name: a, token_sha256: ${H1}, publish: ["or*ders"]}`, /identities\[0\] \(a\)\.publish\[0\]: "or\*ders" is not a name pattern/],
    ["an empty group list", `identities:\n  - {name: a, token_sha256: ${H1}, subscribe: [{topics: [t], groups: []}]}`, /subscribe\[0\]\.groups: an empty list allows no group/],
  ])("refuses %s, naming the entry", (_, text, message) => {
    expect(failure(text)).toMatch(message);
  });
});
