import { setFlagsFromString } from "node:v8";
import { pino } from "pino";
import { Broker } from "./broker/broker.js";
import { ConfigError, loadConfig, usage } from "./config.js";
import { openEdgeSecurity } from "./server/auth/edge-security.js";
import { SecurityConfigError } from "./server/auth/security-config-error.js";
import { startGrpcServer } from "./server/server.js";
import { protobufRecordCodec } from "./server/record-codec.js";
import { levelDbBuild } from "./storage/level-build.js";
import { LevelStorage } from "./storage/level-storage.js";
import { StorageError } from "./storage/storage.js";

/**
 * V8 lets the old generation grow to up to 4x what survived the last full GC
 * before collecting again. Leased messages and their indexes live long
 * enough to be promoted, so with 100 streams consuming a backlog the heap
 * peaked at ~100 MB over ~22 MB live. Capping the growth at 2x took the RSS
 * peak from ~200 MB to ~160 MB at about the same CPU per message; a full GC
 * of a heap this small is short (marking runs concurrently). Node flags given
 * on the command line still win: this only sets the default.
 */
function tuneHeap(): void {
  const given = [...process.execArgv, process.env["NODE_OPTIONS"] ?? ""].some((a) => /heap[-_]growing[-_]percent/.test(a));
  if (!given) setFlagsFromString("--heap-growing-percent=100");
}

/** Runs the broker until SIGTERM or SIGINT. */
async function main(): Promise<number> {
  tuneHeap();
  let config;
  try {
    config = loadConfig(process.argv.slice(2), process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`sluice: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  if (config === "help") {
    process.stdout.write(usage());
    return 0;
  }
  const logger = pino({ level: config.logLevel, base: { name: "sluice" } });
  // Before the data dir is touched: a bad certificate or tokens file stops the start.
  let security;
  try {
    security = await openEdgeSecurity(
      {
        tlsCert: config.tlsCert,
        tlsKey: config.tlsKey,
        tlsClientCa: config.tlsClientCa,
        tokensFile: config.tokensFile,
        openHealth: config.authOpenHealth,
        openReflection: config.authOpenReflection,
      },
      logger,
    );
  } catch (err) {
    if (err instanceof SecurityConfigError) {
      logger.fatal({}, `not starting: ${err.message}`);
      return 2;
    }
    throw err;
  }
  const storage = new LevelStorage({ location: config.dataDir, logger });
  try {
    await storage.open();
  } catch (err) {
    if (err instanceof StorageError) {
      logger.fatal({ dataDir: config.dataDir, code: err.code }, err.message);
      return 1;
    }
    throw err;
  }
  const leveldb = levelDbBuild();
  if (leveldb.readsWithMmap) {
    logger.warn({}, `${leveldb.detail}: LevelDB maps the table files it reads into memory, up to ~64 MB more RSS while consumers read a backlog`);
  }
  const broker = await Broker.open({
    storage,
    codec: protobufRecordCodec,
    logger,
    fsync: config.fsync === "always",
    retentionIntervalMs: config.retentionIntervalMs,
    limits: {
      maxMessageBytes: config.maxMessageBytes,
      maxTopics: config.maxTopics,
      maxPartitions: config.maxPartitions,
      maxInFlight: config.maxInFlight,
      maxGroupInFlight: config.maxGroupInFlight,
      dedupeMaxEntries: config.dedupeMaxEntries,
      maxPendingPublishBytes: config.maxPendingPublishBytes,
    },
  });
  const server = await startGrpcServer(broker, logger, {
    host: config.host,
    port: config.port,
    maxRequestBytes: config.maxRequestBytes,
    keepaliveMs: config.keepaliveMs,
    keepaliveTimeoutMs: config.keepaliveTimeoutMs,
    maxStreamsPerConnection: config.maxStreamsPerConnection,
    maxPendingBytes: config.maxPendingBytes,
    credentials: security.credentials,
    auth: security.auth,
  });
  logger[security.notice.level]({ host: config.host }, security.notice.message);
  // SIGHUP re-reads the tokens file; without one it keeps its default meaning (terminate).
  const onHangup = () => void security.reload();
  if (security.auth !== undefined) process.on("SIGHUP", onHangup);
  logger.info(
    {
      host: config.host,
      port: server.port,
      dataDir: config.dataDir,
      fsync: config.fsync,
      leveldbReads: leveldb.readsWithMmap ? "mmap" : "pread",
      topics: broker.topics.size,
    },
    "sluice listening",
  );

  await new Promise<NodeJS.Signals>((resolve) => {
    process.once("SIGTERM", resolve);
    process.once("SIGINT", resolve);
  }).then((signal) => logger.info({ signal }, "shutting down"));
  process.off("SIGHUP", onHangup);
  security.close();
  await server.shutdown(config.shutdownGraceMs);
  await storage.close();
  logger.info({}, "stopped");
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`sluice: fatal: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
