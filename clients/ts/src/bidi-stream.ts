import { Metadata, status as grpcStatus, type Client, type MethodDefinition, type StatusObject } from "@grpc/grpc-js";
import { Code } from "./code.js";
import { SluiceError } from "./sluice-error.js";

/** What the owner of a stream hears from it. @internal */
export interface StreamHandlers<O> {
  /** A message from the broker. */
  onMessage(message: O): void;
  /** The stream accepts writes again after `write` returned false. */
  onDrain(): void;
  /**
   * The stream is over, after every message was passed to `onMessage`:
   * `undefined` when the broker ended it with OK, else the error. Called once.
   */
  onClose(error: SluiceError | undefined): void;
}

/** The owner's side of an open stream. @internal */
export interface StreamHandle<I> {
  /** Queues a message; `false` means wait for `onDrain` before writing more. No-op once closed. */
  write(message: I): boolean;
  /** Half-closes: no more writes; the broker ends the stream. */
  end(): void;
  /** Cancels the stream; `onClose` follows with {@link Code.Cancelled}. */
  cancel(): void;
}

/** Opens a bidirectional stream. The seam that lets tests replace the network. @internal */
export type OpenStream<I, O> = (handlers: StreamHandlers<O>) => StreamHandle<I>;

/**
 * Opens a grpc-js bidirectional stream and normalises its events: messages,
 * drain, and exactly one close that comes after the last message (grpc-js
 * emits `status` possibly before buffered messages are read, so the close
 * waits for both `status` and the readable side's end).
 * @internal
 */
export function openGrpcStream<I, O>(client: Client, method: MethodDefinition<I, O>): OpenStream<I, O> {
  return (handlers) => {
    const call = client.makeBidiStreamRequest(
      method.path,
      method.requestSerialize,
      method.responseDeserialize,
      new Metadata(),
      {},
    );
    let status: StatusObject | undefined;
    let readEnded = false;
    let closed = false;
    const finish = (): void => {
      if (closed || status === undefined || !readEnded) return;
      closed = true;
      handlers.onClose(
        status.code === grpcStatus.OK ? undefined : SluiceError.from({ code: status.code, details: status.details }),
      );
    };
    call.on("data", (m: O) => handlers.onMessage(m));
    call.on("drain", () => handlers.onDrain());
    // The same failure also arrives as `status`, which is what we act on.
    call.on("error", () => {});
    call.on("status", (s: StatusObject) => {
      status = s;
      finish();
    });
    call.on("end", () => {
      readEnded = true;
      finish();
    });
    call.on("close", () => {
      readEnded = true;
      status ??= { code: grpcStatus.CANCELLED, details: "stream closed", metadata: new Metadata() };
      finish();
    });
    let writableEnded = false;
    return {
      write(message: I): boolean {
        if (closed || writableEnded || status !== undefined) return true;
        return call.write(message);
      },
      end(): void {
        if (writableEnded || closed) return;
        writableEnded = true;
        call.end();
      },
      cancel(): void {
        if (!closed) call.cancel();
      },
    };
  };
}

/** Codes after which a stream is worth reopening. @internal */
export function isRetryable(error: SluiceError): boolean {
  switch (error.code) {
    case Code.Unavailable:
    case Code.Internal:
    case Code.Unknown:
    case Code.Cancelled:
    case Code.DeadlineExceeded:
      return true;
    default:
      return false;
  }
}
