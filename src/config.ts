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
  readonly keepaliveMs: number;
  readonly shutdownGraceMs: number;
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
  keepaliveMs: { flag: "keepalive-ms", env: "SLUICE_KEEPALIVE_MS", def: "30000", help: "HTTP/2 keepalive ping interval" },
  shutdownGraceMs: { flag: "shutdown-grace-ms", env: "SLUICE_SHUTDOWN_GRACE_MS", def: "10000", help: "how long shutdown waits for calls to end" },
};

/** The text of `--help`. */
export function usage(): string {
  const lines = Object.values(OPTIONS).map(
    (o) => `  --${o.flag.padEnd(20)} ${o.help}\n  ${"".padEnd(22)} env ${o.env}, default ${o.def}`,
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
    keepaliveMs: int("keepaliveMs", 1000, 3_600_000),
    shutdownGraceMs: int("shutdownGraceMs", 0, 600_000),
  };
}
