import type { Server } from "@grpc/grpc-js";

/** What grpc-js's Server keeps of its listeners and HTTP/2 sessions (private fields). */
interface ServerInternals {
  readonly http2Servers?: { readonly size: number };
  readonly sessions?: { readonly size: number };
}

/**
 * Resolves once a server that is shutting down holds no listener and no
 * HTTP/2 session, checking every `intervalMs`; never resolves when this
 * grpc-js keeps them elsewhere. Stops checking when `signal` aborts.
 *
 * Why: `tryShutdown` calls back when every session it asked to close has
 * emitted `close`. A session whose client tore the connection down just
 * before is destroyed but not marked closed, and Node ignores `close(callback)`
 * on a destroyed session, so the callback never comes and shutdown would wait
 * out the whole grace period with nothing left open. grpc-js drops a session
 * from its map on `close`, so an empty map means every session really ended.
 */
export function serverDrained(server: Server, signal: AbortSignal, intervalMs = 50): Promise<void> {
  const internals = server as unknown as ServerInternals;
  const { http2Servers, sessions } = internals;
  if (http2Servers === undefined || sessions === undefined || typeof sessions.size !== "number") {
    return new Promise(() => undefined);
  }
  return new Promise((resolve) => {
    const check = () => {
      if (internals.http2Servers!.size === 0 && internals.sessions!.size === 0) {
        clearInterval(timer);
        resolve();
      }
    };
    const timer = setInterval(check, intervalMs);
    signal.addEventListener("abort", () => clearInterval(timer), { once: true });
    check();
  });
}
