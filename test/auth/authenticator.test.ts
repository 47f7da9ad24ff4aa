import { describe, expect, it, vi } from "vitest";
import type { PeerCertificate } from "node:tls";

// Spy on the real timingSafeEqual, so the test proves the comparison goes through it.
const timingSafeEqual = vi.hoisted(() => ({ calls: 0 }));
vi.mock("node:crypto", async (importOriginal) => {
  const crypto = await importOriginal<typeof import("node:crypto")>();
  return {
    ...crypto,
    timingSafeEqual: (a: NodeJS.ArrayBufferView, b: NodeJS.ArrayBufferView) => {
      timingSafeEqual.calls++;
      return crypto.timingSafeEqual(a, b);
    },
  };
});

const { authenticate, digestsEqual, findByTokenDigest } = await import("../../src/server/auth/authenticator.js");
const { AuthError } = await import("../../src/server/auth/auth-error.js");
const { parseTokensFile, tokenDigest, hashToken } = await import("../../src/server/auth/tokens-file.js");

const table = parseTokensFile(
  JSON.stringify({
    identities: [
      { name: "first", token_sha256: [hashToken("t1"), hashToken("t1-next")] },
      { name: "second", token_sha256: hashToken("t2") },
      { name: "analytics", cert_subject: { CN: "analytics", OU: "data" } },
      { name: "wide", cert_subject: { CN: "shared" } },
      { name: "narrow", cert_subject: { CN: "shared", O: "Acme" } },
    ],
  }),
  "tokens.json",
);
const cert = (subject: Record<string, string | string[]>) => ({ subject }) as unknown as PeerCertificate;
const refusal = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(AuthError);
    return err as InstanceType<typeof AuthError>;
  }
  throw new Error("expected an AuthError");
};

describe("token comparison", () => {
  it("compares with crypto.timingSafeEqual against every stored digest, also after a match", () => {
    timingSafeEqual.calls = 0;
    expect(findByTokenDigest(table.identities, tokenDigest("t1"))?.name).toBe("first");
    expect(timingSafeEqual.calls).toBe(3);
    timingSafeEqual.calls = 0;
    expect(findByTokenDigest(table.identities, tokenDigest("unknown"))).toBeUndefined();
    expect(timingSafeEqual.calls).toBe(3);
  });

  it("runs the same number of comparisons whichever token matches", () => {
    const counts = ["t1", "t1-next", "t2", "nobody"].map((token) => {
      let n = 0;
      findByTokenDigest(table.identities, tokenDigest(token), (a, b) => (n++, digestsEqual(a, b)));
      return n;
    });
    expect(counts).toEqual([3, 3, 3, 3]);
  });

  it("treats digests of different lengths as unequal instead of throwing", () => {
    expect(digestsEqual(Buffer.alloc(32), Buffer.alloc(31))).toBe(false);
  });
});

describe("authenticate", () => {
  const bearer = (value: string, certificate?: PeerCertificate) => authenticate(table, { authorization: [value], certificate });

  it("resolves a bearer token, the scheme in any case", () => {
    expect(bearer("Bearer t2")).toMatchObject({ name: "second", via: "token" });
    expect(bearer("bearer t1-next")).toMatchObject({ name: "first", via: "token" });
  });

  it("prefers the token over the certificate", () => {
    expect(bearer("Bearer t2", cert({ CN: "analytics", OU: "data" }))).toMatchObject({ name: "second" });
  });

  it("refuses a wrong token without naming any identity", () => {
    const err = refusal(() => bearer("Bearer t3"));
    expect([err.code, err.message]).toEqual(["unauthenticated", "invalid bearer token"]);
  });

  it("refuses other schemes and repeated authorization metadata", () => {
    expect(refusal(() => bearer("Basic dDE=")).message).toBe("the `authorization` metadata must be `Bearer <token>`");
    expect(refusal(() => authenticate(table, { authorization: ["Bearer t1", "Bearer t2"], certificate: undefined })).message).toBe(
      "send one `authorization` metadata entry, not several",
    );
  });

  it("refuses a call with no credentials, saying what to send", () => {
    expect(refusal(() => authenticate(table, { authorization: [], certificate: undefined })).message).toBe(
      "authentication required: send the metadata `authorization: Bearer <token>`",
    );
  });

  it("matches every listed subject attribute, one of several values for repeated ones", () => {
    const id = authenticate(table, { authorization: [], certificate: cert({ CN: "analytics", OU: ["ops", "data"], O: "Acme" }) });
    expect(id).toMatchObject({ name: "analytics", via: "certificate" });
    expect(refusal(() => authenticate(table, { authorization: [], certificate: cert({ CN: "analytics" }) })).code).toBe("unauthenticated");
  });

  it("refuses a certificate that matches several identities, and says so only in the log detail", () => {
    const err = refusal(() => authenticate(table, { authorization: [], certificate: cert({ CN: "shared", O: "Acme" }) }));
    expect(err.message).toBe("the client certificate maps to no identity; send `authorization: Bearer <token>`");
    expect(err.detail).toMatch(/matches several identities: wide, narrow/);
  });
});
