/**
 * The gRPC status codes, the closed set of codes a {@link SluiceError} carries.
 *
 * The numbers are the wire values, so a code read from a broker status (or from
 * a `RequestError` on a publish stream) maps onto this enum unchanged.
 */
export enum Code {
  /** Not an error; never carried by a thrown {@link SluiceError}. */
  Ok = 0,
  /** The call was cancelled, usually by the caller (an `AbortSignal`, `close()`). */
  Cancelled = 1,
  /** An error the broker or the transport could not classify. */
  Unknown = 2,
  /** A bad name, setting or message; retrying the same request fails again. */
  InvalidArgument = 3,
  /** The deadline of the call passed before the broker answered. */
  DeadlineExceeded = 4,
  /** No such topic or group. */
  NotFound = 5,
  /** The topic or group exists already. */
  AlreadyExists = 6,
  /** The caller may not do this. */
  PermissionDenied = 7,
  /** A limit was reached (topic count, request size, disk). */
  ResourceExhausted = 8,
  /** The system is not in a state that allows the operation (e.g. a closed publisher). */
  FailedPrecondition = 9,
  /** The operation was aborted, e.g. a subscription whose group was deleted. */
  Aborted = 10,
  /** A value outside its valid range. */
  OutOfRange = 11,
  /** The broker does not implement the operation. */
  Unimplemented = 12,
  /** A bug in the broker; details are in the broker's log. */
  Internal = 13,
  /** The broker cannot be reached or is shutting down; safe to retry. */
  Unavailable = 14,
  /** Unrecoverable data loss. */
  DataLoss = 15,
  /** The caller is not authenticated. */
  Unauthenticated = 16,
}

/**
 * The canonical upper-case name of a code, e.g. `"NOT_FOUND"` for
 * {@link Code.NotFound}; `"CODE_<n>"` for a number outside the set.
 */
export function codeName(code: Code): string {
  const name = Code[code];
  if (name === undefined) return `CODE_${code}`;
  return name.replace(/([a-z])([A-Z])/g, "$1_$2").toUpperCase();
}

/** Whether `n` is one of the gRPC status codes. */
export function isCode(n: unknown): n is Code {
  return typeof n === "number" && Number.isInteger(n) && n >= 0 && n <= 16;
}
