import { describe, expect, it } from "vitest";
import { securityNotice } from "../../src/server/auth/security-notice.js";

describe("securityNotice", () => {
  it.each([
    [{ tls: false, mutualTls: false, tokens: false }, "warn", /^serving plaintext gRPC without authentication/],
    [{ tls: false, mutualTls: false, tokens: true }, "warn", /^serving plaintext gRPC with token authentication: tokens and messages cross the network unencrypted/],
    [{ tls: true, mutualTls: false, tokens: false }, "warn", /^serving TLS without authentication/],
    [{ tls: true, mutualTls: true, tokens: false }, "info", /^serving mutual TLS: every client with a certificate signed by --tls-client-ca has full access/],
    [{ tls: true, mutualTls: false, tokens: true }, "info", /^serving TLS with per-topic permissions/],
    [{ tls: true, mutualTls: true, tokens: true }, "info", /^serving mutual TLS with per-topic permissions/],
  ])("for %j logs at %s", (mode, level, message) => {
    const notice = securityNotice(mode);
    expect(notice.level).toBe(level);
    expect(notice.message).toMatch(message);
  });
});
