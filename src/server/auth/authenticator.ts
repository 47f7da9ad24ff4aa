import { timingSafeEqual } from "node:crypto";
import type { PeerCertificate } from "node:tls";
import type { Metadata, ServerUnaryCall } from "@grpc/grpc-js";
import { AuthError } from "./auth-error.js";
import type { Grants } from "./permissions.js";
import { type AccessTable, type IdentityEntry, tokenDigest } from "./tokens-file.js";

/** Who is calling, and what they may do. */
export interface Identity {
  readonly name: string;
  readonly grants: Grants;
  /** How the caller proved it: the bearer token, or the mTLS client certificate. */
  readonly via: "token" | "certificate";
}

/** What a call presents: its `authorization` metadata and its verified client certificate. */
export interface Credentials {
  /** Every `authorization` metadata value (grpc-js keeps repeats). */
  readonly authorization: readonly string[];
  /** The client certificate, present only when TLS verified it against the client CA. */
  readonly certificate: PeerCertificate | undefined;
}

/** What grpc-js knows of a call's transport (not exported by grpc-js under a name). */
type AuthContext = ReturnType<ServerUnaryCall<unknown, unknown>["getAuthContext"]>;

/** The credentials of a grpc-js server call. */
export function credentialsOf(call: { readonly metadata: Metadata; getAuthContext(): AuthContext }): Credentials {
  const authorization = call.metadata.get("authorization").map((v) => (typeof v === "string" ? v : v.toString("utf8")));
  return { authorization, certificate: call.getAuthContext().sslPeerCertificate };
}

const BEARER = /^Bearer +(\S+) *$/i;

/**
 * Resolves the identity of a call: from the bearer token when one is sent,
 * else from the client certificate's subject.
 * @throws AuthError `unauthenticated` when neither names an identity; the
 *   message says what to send and never whether some identity exists.
 */
export function authenticate(table: AccessTable, credentials: Credentials): Identity {
  const { authorization, certificate } = credentials;
  if (authorization.length > 1) {
    throw new AuthError("unauthenticated", "send one `authorization` metadata entry, not several");
  }
  if (authorization.length === 1) {
    const match = BEARER.exec(authorization[0]!);
    if (match === null) throw new AuthError("unauthenticated", "the `authorization` metadata must be `Bearer <token>`");
    const entry = findByTokenDigest(table.identities, tokenDigest(match[1]!));
    if (entry === undefined) throw new AuthError("unauthenticated", "invalid bearer token", "no identity has this token");
    return { name: entry.name, grants: entry.grants, via: "token" };
  }
  if (certificate !== undefined) {
    const entries = table.identities.filter((e) => e.certSubject !== undefined && subjectMatches(e.certSubject, certificate));
    if (entries.length === 1) return { name: entries[0]!.name, grants: entries[0]!.grants, via: "certificate" };
    throw new AuthError(
      "unauthenticated",
      "the client certificate maps to no identity; send `authorization: Bearer <token>`",
      entries.length === 0
        ? `no cert_subject matches ${JSON.stringify(certificate.subject)}`
        : `certificate ${JSON.stringify(certificate.subject)} matches several identities: ${entries.map((e) => e.name).join(", ")}`,
    );
  }
  throw new AuthError("unauthenticated", "authentication required: send the metadata `authorization: Bearer <token>`");
}

/**
 * The identity whose token has `digest`, comparing against every stored
 * digest with {@link digestsEqual} and without stopping at a match, so the
 * time taken depends on the number of tokens, not on which one matched or
 * how many leading bytes agreed.
 */
export function findByTokenDigest(
  identities: readonly IdentityEntry[],
  digest: Buffer,
  equal: (a: Buffer, b: Buffer) => boolean = digestsEqual,
): IdentityEntry | undefined {
  let found: IdentityEntry | undefined;
  for (const entry of identities) {
    for (const stored of entry.tokenDigests) {
      // `equal` first: it runs for every digest even after a match.
      if (equal(digest, stored) && found === undefined) found = entry;
    }
  }
  return found;
}

/** Constant-time equality of two digests (false for different lengths, where timingSafeEqual would throw). */
export function digestsEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Every attribute of `wanted` equals the certificate's (or one of its values, for repeated attributes such as OU). */
function subjectMatches(wanted: Readonly<Record<string, string>>, certificate: PeerCertificate): boolean {
  const subject = (certificate.subject ?? {}) as unknown as Record<string, string | string[] | undefined>;
  return Object.entries(wanted).every(([key, value]) => {
    if (!Object.hasOwn(subject, key)) return false;
    const actual = subject[key];
    return Array.isArray(actual) ? actual.includes(value) : actual === value;
  });
}
