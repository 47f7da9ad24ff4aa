import { parseArgs } from "node:util";

/** The broker's configuration, from flags, then environment, then defaults. */
export interface Config {
  readonly host: string;
  readonly port: number;
  readonly dataDir: string;
  readonly logLevel: string;
  readonly fsync: "never" | "always";
  readonly maxMessageBytes: number;
  readonly maxRequestBytes: number;
  readonly maxTopics: number;
  readonly maxPartitions: number;
  readonly maxInFlight: number;
  readonly maxGroupInFlight: number;
  readonly maxStreamsPerConnection: number;
  readonly maxPendingBytes: number;
  readonly keepaliveMs: number;
  readonly keepaliveTimeoutMs: number;
  readonly shutdownGraceMs: number;
  readonly retentionIntervalMs: number;
  readonly dedupeMaxEntries: number;
  readonly maxPendingPublishBytes: number;
  /** PEM certificate chain of the gRPC port; TLS is on when set (with `tlsKey`). */
  readonly tlsCert: string | undefined;
  readonly tlsKey: string | undefined;
  /** PEM CA of client certificates; when set, clients must present one (mutual TLS). */
  readonly tlsClientCa: string | undefined;
  /** The tokens file; calls are authenticated and authorised when set. */
  readonly tokensFile: string | undefined;
  /** With a tokens file: health checks need no credentials. */
  readonly authOpenHealth: boolean;
  /** With a tokens file: reflection needs no credentials. */
  readonly authOpenReflection: boolean;
}

interface Option {
  readonly flag: string;
  readonly env: string;
  readonly def: string;
  readonly help: string;
}

const OPTIONS: Record<keyof Config, Option> = {
  host: { flag: "host", env: "SLUICE_HOST", def: "127.0.0.1", help: "address to listen on (0.0.0.0 for every interface)" },
  port: { flag: "port", env: "SLUICE_PORT", def: "50051", help: "gRPC port (0 picks a free one)" },
  dataDir: { flag: "data-dir", env: "SLUICE_DATA_DIR", def: "./data", help: "LevelDB data directory" },
  logLevel: { flag: "log-level", env: "SLUICE_LOG_LEVEL", def: "info", help: "trace, debug, info, warn, error or silent" },
  fsync: { flag: "fsync", env: "SLUICE_FSYNC", def: "never", help: "'always' flushes every commit to disk before answering (power-loss safe); 'never' survives process crashes" },
  maxMessageBytes: { flag: "max-message-bytes", env: "SLUICE_MAX_MESSAGE_BYTES", def: "1048576", help: "largest message (key + payload + headers)" },
  maxRequestBytes: { flag: "max-request-bytes", env: "SLUICE_MAX_REQUEST_BYTES", def: "16777216", help: "largest gRPC request" },
  maxTopics: { flag: "max-topics", env: "SLUICE_MAX_TOPICS", def: "100000", help: "most topics the broker holds" },
  maxPartitions: { flag: "max-partitions", env: "SLUICE_MAX_PARTITIONS", def: "1024", help: "most partitions per topic" },
  maxInFlight: { flag: "max-in-flight", env: "SLUICE_MAX_IN_FLIGHT", def: "100000", help: "largest max_in_flight a stream may ask for" },
  maxGroupInFlight: { flag: "max-group-in-flight", env: "SLUICE_MAX_GROUP_IN_FLIGHT", def: "100000", help: "most unacknowledged messages of one group, all its streams and Fetch calls together" },
  maxStreamsPerConnection: { flag: "max-streams-per-connection", env: "SLUICE_MAX_STREAMS_PER_CONNECTION", def: "1000", help: "most Subscribe and PublishStream calls open at once on one client connection" },
  maxPendingPublishBytes: { flag: "max-pending-publish-bytes", env: "SLUICE_MAX_PENDING_PUBLISH_BYTES", def: "16777216", help: "bytes of messages accepted and not yet stored, broker-wide, before PublishStreams stop reading (clients wait)" },
  maxPendingBytes: { flag: "max-pending-bytes", env: "SLUICE_MAX_PENDING_BYTES", def: "4194304", help: "bytes a Subscribe stream may have waiting to be sent before the broker stops adding more (plus one batch)" },
  keepaliveMs: { flag: "keepalive-ms", env: "SLUICE_KEEPALIVE_MS", def: "30000", help: "HTTP/2 keepalive ping interval" },
  keepaliveTimeoutMs: { flag: "keepalive-timeout-ms", env: "SLUICE_KEEPALIVE_TIMEOUT_MS", def: "20000", help: "how long a keepalive ping may go unanswered before the connection is closed and its leases released" },
  shutdownGraceMs: { flag: "shutdown-grace-ms", env: "SLUICE_SHUTDOWN_GRACE_MS", def: "10000", help: "how long shutdown waits for calls to end" },
  retentionIntervalMs: { flag: "retention-interval-ms", env: "SLUICE_RETENTION_INTERVAL_MS", def: "30000", help: "time between passes that remove messages past their topic's retention" },
  dedupeMaxEntries: { flag: "dedupe-max-entries", env: "SLUICE_DEDUPE_MAX_ENTRIES", def: "1000000", help: "message ids remembered for dedupe, broker-wide; beyond it the oldest are forgotten early" },
  tlsCert: { flag: "tls-cert", env: "SLUICE_TLS_CERT", def: "", help: "PEM certificate chain: serve TLS (with --tls-key); see docs/security.md" },
  tlsKey: { flag: "tls-key", env: "SLUICE_TLS_KEY", def: "", help: "PEM private key of --tls-cert" },
  tlsClientCa: { flag: "tls-client-ca", env: "SLUICE_TLS_CLIENT_CA", def: "", help: "PEM CA: require client certificates it signed (mutual TLS)" },
  tokensFile: { flag: "tokens-file", env: "SLUICE_TOKENS_FILE", def: "", help: "YAML/JSON identities, hashed tokens, per-topic permissions; reloaded on change and SIGHUP" },
  authOpenHealth: { flag: "auth-open-health", env: "SLUICE_AUTH_OPEN_HEALTH", def: "true", help: "with --tokens-file: 'false' makes health checks need credentials" },
  authOpenReflection: { flag: "auth-open-reflection", env: "SLUICE_AUTH_OPEN_REFLECTION", def: "true", help: "with --tokens-file: 'false' makes reflection need credentials" },
};

/** The text of `--help`. */
export function usage(): string {
  const lines = Object.values(OPTIONS).map(
    (o) => `  --${o.flag.padEnd(20)} ${o.help}\n  ${"".padEnd(22)} env ${o.env}, default ${o.def === "" ? "none" : o.def}`,
  );
  return `Usage: sluice [options]\n\nRuns the Sluice gRPC message broker.\n\nOptions (flags override environment variables):\n${lines.join("\n")}\n  --help                 show this text\n`;
}

/** Thrown for a configuration a person must fix; the message says how. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

/**
 * Reads the configuration. Returns "help" when --help was given.
 * @throws ConfigError for unknown flags or bad values.
 */
export function loadConfig(argv: string[], env: NodeJS.ProcessEnv): Config | "help" {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        help: { type: "boolean" },
        ...Object.fromEntries(Object.values(OPTIONS).map((o) => [o.flag, { type: "string" as const }])),
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new ConfigError(`${(err as Error).message}\n\n${usage()}`);
  }
  if (values.help) return "help";
  const raw = (k: keyof Config) => {
    const o = OPTIONS[k];
    return (values[o.flag] as string | undefined) ?? env[o.env] ?? o.def;
  };
  const int = (k: keyof Config, min: number, max: number) => {
    const text = raw(k);
    const n = Number(text);
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new ConfigError(`--${OPTIONS[k].flag} (${OPTIONS[k].env}) must be an integer from ${min} to ${max}; got ${JSON.stringify(text)}`);
    }
    return n;
  };
  const optional = (k: keyof Config) => (raw(k) === "" ? undefined : raw(k));
  const bool = (k: keyof Config) => {
    const text = raw(k);
    if (text !== "true" && text !== "false") {
      throw new ConfigError(`--${OPTIONS[k].flag} (${OPTIONS[k].env}) must be 'true' or 'false'; got ${JSON.stringify(text)}`);
    }
    return text === "true";
  };
  const tlsCert = optional("tlsCert");
  const tlsKey = optional("tlsKey");
  const tlsClientCa = optional("tlsClientCa");
  if ((tlsCert === undefined) !== (tlsKey === undefined)) {
    throw new ConfigError("--tls-cert and --tls-key (SLUICE_TLS_CERT, SLUICE_TLS_KEY) go together: give both or neither");
  }
  if (tlsClientCa !== undefined && tlsCert === undefined) {
    throw new ConfigError("--tls-client-ca needs TLS: give --tls-cert and --tls-key too");
  }
  const fsync = raw("fsync");
  if (fsync !== "never" && fsync !== "always") {
    throw new ConfigError(`--fsync (SLUICE_FSYNC) must be 'never' or 'always'; got ${JSON.stringify(fsync)}`);
  }
  const maxMessageBytes = int("maxMessageBytes", 1, 64 << 20);
  const maxRequestBytes = int("maxRequestBytes", 1024, 1 << 30);
  if (maxRequestBytes < maxMessageBytes + 1024) {
    throw new ConfigError(`--max-request-bytes (${maxRequestBytes}) must exceed --max-message-bytes (${maxMessageBytes}) by at least 1024`);
  }
  return {
    host: raw("host"),
    port: int("port", 0, 65535),
    dataDir: raw("dataDir"),
    logLevel: raw("logLevel"),
    fsync,
    maxMessageBytes,
    maxRequestBytes,
    maxTopics: int("maxTopics", 1, 10_000_000),
    maxPartitions: int("maxPartitions", 1, 65_536),
    maxInFlight: int("maxInFlight", 1, 10_000_000),
    maxGroupInFlight: int("maxGroupInFlight", 1, 100_000_000),
    maxStreamsPerConnection: int("maxStreamsPerConnection", 1, 1_000_000),
    maxPendingBytes: int("maxPendingBytes", 1024, 1 << 30),
    maxPendingPublishBytes: int("maxPendingPublishBytes", 1024, 2 ** 40),
    keepaliveMs: int("keepaliveMs", 1000, 3_600_000),
    keepaliveTimeoutMs: int("keepaliveTimeoutMs", 1000, 600_000),
    shutdownGraceMs: int("shutdownGraceMs", 0, 600_000),
    retentionIntervalMs: int("retentionIntervalMs", 100, 86_400_000),
    dedupeMaxEntries: int("dedupeMaxEntries", 1, 100_000_000),
    tlsCert,
    tlsKey,
    tlsClientCa,
    tokensFile: optional("tokensFile"),
    authOpenHealth: bool("authOpenHealth"),
    authOpenReflection: bool("authOpenReflection"),
  };
}
