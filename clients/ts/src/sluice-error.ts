import { Code, codeName, isCode } from "./code.js";

/**
 * The one error class of the Sluice client. Every failed call, stream and
 * send rejects with a `SluiceError`; errors of the transport (grpc-js) never
 * leak, they are carried in `cause` for logs.
 *
 * `message` is the broker's (or the client's) human-readable description;
 * `code` is the gRPC status code, the thing to branch on.
 */
export class SluiceError extends Error {
  override name = "SluiceError";
  /** The gRPC status code. */
  readonly code: Code;

  /**
   * @param code - the gRPC status code
   * @param message - a description for a person
   * @param options - `cause`: the underlying error, kept for logs
   */
  constructor(code: Code, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }

  /** `"SluiceError [NOT_FOUND]: topic orders not found"`. */
  override toString(): string {
    return `${this.name} [${codeName(this.code)}]: ${this.message}`;
  }

  /**
   * Converts anything thrown by the transport or by user code into a
   * `SluiceError`: a `SluiceError` is returned unchanged, a grpc-js status
   * error keeps its code and details, an `AbortError` becomes
   * {@link Code.Cancelled}, anything else {@link Code.Unknown}.
   */
  static from(reason: unknown): SluiceError {
    if (reason instanceof SluiceError) return reason;
    if (typeof reason === "object" && reason !== null) {
      const r = reason as { code?: unknown; details?: unknown; message?: unknown; name?: unknown };
      if (r.name === "AbortError") return new SluiceError(Code.Cancelled, "the operation was aborted", { cause: reason });
      if (isCode(r.code) && r.code !== Code.Ok) {
        const details = typeof r.details === "string" && r.details !== "" ? r.details : String(r.message ?? "");
        return new SluiceError(r.code, details, { cause: reason });
      }
      if (reason instanceof Error) return new SluiceError(Code.Unknown, reason.message, { cause: reason });
    }
    return new SluiceError(Code.Unknown, String(reason), { cause: reason });
  }
}
