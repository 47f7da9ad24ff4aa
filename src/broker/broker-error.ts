/**
 * The closed set of reasons a broker operation fails. The gRPC edge maps each
 * to exactly one status code (see src/server/status.ts); nothing else in the
 * core knows about gRPC.
 */
export type BrokerErrorCode =
  | "invalid-argument"
  | "not-found"
  | "already-exists"
  | "failed-precondition"
  | "resource-exhausted"
  | "aborted"
  | "unavailable"
  | "internal";

/**
 * The one error the broker core throws on purpose. `message` is meant for the
 * client and must not leak internals; `cause` carries them to the log.
 */
export class BrokerError extends Error {
  override readonly name = "BrokerError";
  constructor(
    readonly code: BrokerErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
