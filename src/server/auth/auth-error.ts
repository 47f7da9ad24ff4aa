/**
 * Why the edge refused a call before it reached the broker core:
 * `unauthenticated` (no credentials, or ones that identify no one) or
 * `permission-denied` (a known identity lacks a permission). Mapped to gRPC
 * status in src/server/status.ts, like every other error.
 */
export type AuthErrorCode = "unauthenticated" | "permission-denied";

/**
 * A refused call. The message goes to the client, so for `unauthenticated`
 * it never says anything about identities that exist; for
 * `permission-denied` it names the caller's own identity, the missing
 * permission and the resource.
 */
export class AuthError extends Error {
  override readonly name = "AuthError";
  constructor(
    readonly code: AuthErrorCode,
    message: string,
    /** More for the broker's log only (never sent), e.g. which check failed. */
    readonly detail?: string,
  ) {
    super(message);
  }
}
