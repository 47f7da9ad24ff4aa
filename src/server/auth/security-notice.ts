/** How the gRPC port is protected. */
export interface SecurityMode {
  /** TLS on the port (`--tls-cert`, `--tls-key`). */
  readonly tls: boolean;
  /** Clients must present a certificate (`--tls-client-ca`). */
  readonly mutualTls: boolean;
  /** Calls are authenticated and authorised against a tokens file (`--tokens-file`). */
  readonly tokens: boolean;
}

/** A start-up log line: a warning whenever the port is not both encrypted and access-controlled. */
export interface SecurityNotice {
  readonly level: "warn" | "info";
  readonly message: string;
}

const OPEN = "anyone who can reach the port can publish, consume and administer every topic";

/** What the broker says at start about `mode`, so an unsafe setup is never silent. */
export function securityNotice(mode: SecurityMode): SecurityNotice {
  if (!mode.tls && !mode.tokens) {
    return { level: "warn", message: `serving plaintext gRPC without authentication: ${OPEN}; for local development only (see docs/security.md)` };
  }
  if (!mode.tls) {
    return {
      level: "warn",
      message:
        "serving plaintext gRPC with token authentication: tokens and messages cross the network unencrypted; " +
        "set --tls-cert and --tls-key unless a TLS proxy on the same host fronts the broker",
    };
  }
  if (!mode.tokens && !mode.mutualTls) {
    return { level: "warn", message: `serving TLS without authentication: ${OPEN}; set --tokens-file or --tls-client-ca` };
  }
  if (!mode.tokens) {
    return {
      level: "info",
      message: "serving mutual TLS: every client with a certificate signed by --tls-client-ca has full access; set --tokens-file for per-topic permissions",
    };
  }
  return {
    level: "info",
    message: mode.mutualTls
      ? "serving mutual TLS with per-topic permissions from the tokens file (bearer tokens and client certificates)"
      : "serving TLS with per-topic permissions from the tokens file (bearer tokens)",
  };
}
