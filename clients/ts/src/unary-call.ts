import { Metadata, type Client, type MethodDefinition } from "@grpc/grpc-js";
import { Code } from "./code.js";
import { SluiceError } from "./sluice-error.js";

/**
 * Makes one unary call and settles with its response, or rejects with a
 * {@link SluiceError} (never a grpc-js error). `deadlineMs` bounds the call;
 * an aborted `signal` cancels it with {@link Code.Cancelled}.
 * @internal
 */
export function unaryCall<I, O>(
  client: Client,
  method: MethodDefinition<I, O>,
  request: I,
  deadlineMs: number,
  signal?: AbortSignal,
): Promise<O> {
  if (signal?.aborted) return Promise.reject(new SluiceError(Code.Cancelled, "the call was aborted"));
  return new Promise<O>((resolve, reject) => {
    const onAbort = (): void => call.cancel();
    const call = client.makeUnaryRequest(
      method.path,
      method.requestSerialize,
      method.responseDeserialize,
      request,
      new Metadata(),
      { deadline: Date.now() + deadlineMs },
      (err, response) => {
        signal?.removeEventListener("abort", onAbort);
        if (err) {
          reject(signal?.aborted ? new SluiceError(Code.Cancelled, "the call was aborted", { cause: err }) : SluiceError.from(err));
        } else if (response === undefined) {
          reject(new SluiceError(Code.Internal, "the broker sent no response"));
        } else {
          resolve(response);
        }
      },
    );
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
