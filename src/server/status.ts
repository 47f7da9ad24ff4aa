import { Metadata, status, type StatusObject } from "@grpc/grpc-js";
import { BrokerError, type BrokerErrorCode } from "../broker/broker-error.js";
import type { Logger } from "../broker/logger.js";
import { AuthError, type AuthErrorCode } from "./auth/auth-error.js";

/** The one place broker errors become gRPC status codes. */
const CODES: Record<BrokerErrorCode, status> = {
  "invalid-argument": status.INVALID_ARGUMENT,
  "not-found": status.NOT_FOUND,
  "already-exists": status.ALREADY_EXISTS,
  "failed-precondition": status.FAILED_PRECONDITION,
  "resource-exhausted": status.RESOURCE_EXHAUSTED,
  aborted: status.ABORTED,
  unavailable: status.UNAVAILABLE,
  internal: status.INTERNAL,
};

/** Refusals of the authorization layer (src/server/auth), which logs them itself. */
const AUTH_CODES: Record<AuthErrorCode, status> = {
  unauthenticated: status.UNAUTHENTICATED,
  "permission-denied": status.PERMISSION_DENIED,
};

/**
 * Maps any error to a gRPC status. A {@link BrokerError} keeps its message;
 * anything else becomes INTERNAL with a generic message, and is logged with
 * its cause (it is a bug).
 */
export function toStatus(err: unknown, logger: Logger, method: string): Partial<StatusObject> {
  if (err instanceof AuthError) return { code: AUTH_CODES[err.code], details: err.message, metadata: new Metadata() };
  if (err instanceof BrokerError) {
    if (err.code === "internal" || err.cause !== undefined) logger.warn({ err, method }, err.message);
    return { code: CODES[err.code], details: err.message, metadata: new Metadata() };
  }
  logger.error({ err, method }, "unexpected error");
  return { code: status.INTERNAL, details: "internal error; see the broker's log", metadata: new Metadata() };
}

/** The numeric gRPC code for a broker error, for per-request errors on streams. */
export function grpcCode(err: unknown): status {
  if (err instanceof AuthError) return AUTH_CODES[err.code];
  return err instanceof BrokerError ? CODES[err.code] : status.INTERNAL;
}
