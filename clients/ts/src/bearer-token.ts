import { InterceptingCall, type Interceptor } from "@grpc/grpc-js";
import { Code } from "./code.js";
import { SluiceError } from "./sluice-error.js";

// gRPC metadata values are printable ASCII; a token never needs a space.
const TOKEN = /^[\x21-\x7e]+$/;

/**
 * Checks a bearer token before any call, so a token with a newline or a
 * space fails at construction with a clear error, not on every call.
 * @throws SluiceError {@link Code.InvalidArgument}
 * @internal
 */
export function checkToken(token: string): void {
  if (!TOKEN.test(token)) {
    throw new SluiceError(Code.InvalidArgument, "the token must be non-empty printable ASCII without spaces");
  }
}

/**
 * An interceptor adding `authorization: Bearer <token>` to every call. An
 * interceptor rather than call credentials because grpc-js refuses call
 * credentials on plaintext channels, and a broker behind a TLS-terminating
 * proxy on the same host is reached in plaintext.
 * @internal
 */
export function bearerTokenInterceptor(token: string): Interceptor {
  checkToken(token);
  const value = `Bearer ${token}`;
  return (options, nextCall) =>
    new InterceptingCall(nextCall(options), {
      start(metadata, listener, next) {
        metadata.set("authorization", value);
        next(metadata, listener);
      },
    });
}
