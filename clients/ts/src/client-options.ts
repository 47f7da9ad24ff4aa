import { credentials, type ChannelCredentials, type ChannelOptions, type Interceptor } from "@grpc/grpc-js";
import type { ReconnectOptions } from "./backoff.js";
import { bearerTokenInterceptor } from "./bearer-token.js";
import { Code } from "./code.js";
import { SluiceError } from "./sluice-error.js";
import type { Logger } from "./logger.js";

/** TLS settings; PEM text or bytes. Every field is optional. */
export interface TlsOptions {
  /** Root certificates to trust instead of the system's. */
  ca?: string | Uint8Array;
  /** The client certificate chain, for mutual TLS (with `key`); the broker may take its subject as the identity. */
  cert?: string | Uint8Array;
  /** The client private key, for mutual TLS (with `cert`). */
  key?: string | Uint8Array;
  /** The name to verify the broker's certificate against, when it differs from the address's host. */
  serverName?: string;
}

/** Options of a {@link SluiceClient}; every field has a default. */
export interface SluiceClientOptions {
  /**
   * Use TLS: `true` with the system's roots, or explicit {@link TlsOptions}.
   * Default `false`: plaintext, meant for localhost and private networks.
   */
  tls?: boolean | TlsOptions;
  /**
   * A bearer token, sent as `authorization: Bearer <token>` on every call
   * (the broker's `--tokens-file`). Over plaintext anyone on the path can
   * read it: use it with `tls` unless a TLS proxy on the same host fronts
   * the broker. A token the broker does not know fails calls with
   * UNAUTHENTICATED, which publishers and subscriptions do not retry.
   */
  token?: string;
  /**
   * Interval of HTTP/2 keepalive pings, in ms, also while no call is open, so
   * that idle long-lived streams survive proxies and NATs. Default 30 000;
   * 0 turns keepalive off. (Servers other than Sluice may reject pings more
   * frequent than their policy.)
   */
  keepaliveTimeMs?: number;
  /** How long to wait for a ping's answer before the connection is considered dead, in ms. Default 10 000. */
  keepaliveTimeoutMs?: number;
  /** The deadline of unary calls (admin, `publish`) unless a call sets its own, in ms. Default 30 000. */
  deadlineMs?: number;
  /** The default reconnection policy of publishers and subscriptions. */
  reconnect?: Partial<ReconnectOptions>;
  /** Where to report connection events. Default: silent. */
  logger?: Logger;
  /** Extra grpc-js channel options, applied last (e.g. `"grpc.max_send_message_length"`). */
  channelOptions?: Record<string, string | number>;
}

/** Per-call options of unary calls. */
export interface CallOptions {
  /** The call's deadline in ms from now; overrides the client's `deadlineMs`. */
  deadlineMs?: number;
  /** Cancels the call; it then rejects with {@link Code.Cancelled}. */
  signal?: AbortSignal;
}

function bytes(v: string | Uint8Array | undefined): Buffer | null {
  if (v === undefined) return null;
  return typeof v === "string" ? Buffer.from(v, "utf8") : Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}

/**
 * The channel credentials the options ask for.
 * @throws SluiceError {@link Code.InvalidArgument} for `cert` without `key` or the reverse
 * @internal
 */
export function channelCredentials(options: SluiceClientOptions): ChannelCredentials {
  const tls = options.tls;
  if (tls === undefined || tls === false) return credentials.createInsecure();
  if (tls === true) return credentials.createSsl();
  if ((tls.cert === undefined) !== (tls.key === undefined)) {
    throw new SluiceError(Code.InvalidArgument, "tls.cert and tls.key go together: give both for mutual TLS, or neither");
  }
  return credentials.createSsl(bytes(tls.ca), bytes(tls.key), bytes(tls.cert));
}

/**
 * The interceptors of every call: the bearer token's, if any.
 * @throws SluiceError {@link Code.InvalidArgument} for a malformed token
 * @internal
 */
export function callInterceptors(options: SluiceClientOptions): Interceptor[] {
  return options.token === undefined ? [] : [bearerTokenInterceptor(options.token)];
}

/** The grpc-js channel options the client options ask for. @internal */
export function channelOptions(options: SluiceClientOptions, reconnect: ReconnectOptions): ChannelOptions {
  const keepalive = options.keepaliveTimeMs ?? 30_000;
  const result: ChannelOptions = {
    // A subscription's memory is bounded by max_in_flight, not by frame size.
    "grpc.max_receive_message_length": -1,
    // Keep grpc-js's own reconnection backoff in step with ours, so a broker
    // that comes back is dialled within our delay, not after grpc-js's 120 s cap.
    "grpc.initial_reconnect_backoff_ms": Math.max(1, reconnect.initialDelayMs),
    "grpc.max_reconnect_backoff_ms": Math.max(1, reconnect.maxDelayMs),
  };
  if (keepalive > 0) {
    result["grpc.keepalive_time_ms"] = keepalive;
    result["grpc.keepalive_timeout_ms"] = options.keepaliveTimeoutMs ?? 10_000;
    result["grpc.keepalive_permit_without_calls"] = 1;
  }
  if (typeof options.tls === "object" && options.tls.serverName !== undefined) {
    result["grpc.ssl_target_name_override"] = options.tls.serverName;
    result["grpc.default_authority"] = options.tls.serverName;
  }
  return { ...result, ...options.channelOptions };
}
