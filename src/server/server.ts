import { Server, ServerCredentials } from "@grpc/grpc-js";
import { HealthImplementation } from "grpc-health-check";
import type { Broker } from "../broker/broker.js";
import type { Logger } from "../broker/logger.js";
import { AdminService } from "../../gen/sluice/v1/admin_pb.js";
import { BrokerService } from "../../gen/sluice/v1/broker_pb.js";
import { adminService } from "./admin-service.js";
import { authorize, type AuthorizeOptions } from "./auth/authorize.js";
import { brokerService } from "./broker-service.js";
import { DEFAULT_MAX_STREAMS_PER_CONNECTION } from "./stream-limiter.js";
import { DEFAULT_MAX_PENDING_BYTES } from "./subscribe-stream.js";
import { grpcServiceDefinition } from "./grpc-service.js";
import { addReflection } from "./reflection.js";
import { serverDrained } from "./server-drained.js";

/** How the gRPC server listens and protects itself. */
export interface GrpcServerOptions {
  readonly host: string;
  readonly port: number;
  /** The largest request the server reads; bigger ones get RESOURCE_EXHAUSTED. */
  readonly maxRequestBytes: number;
  /** Interval of HTTP/2 pings on idle connections, so proxies keep streams open. */
  readonly keepaliveMs: number;
  /**
   * How long a ping may go unanswered before the connection is closed, which
   * ends its streams and releases their leases (a dead peer). Default 20 s.
   */
  readonly keepaliveTimeoutMs?: number;
  /** Subscribe and PublishStream calls open at once per connection. Default 1000. */
  readonly maxStreamsPerConnection?: number;
  /** Bytes a Subscribe stream may have waiting to be sent (plus one batch). Default 4 MiB. */
  readonly maxPendingBytes?: number;
  /** TLS (see src/server/auth/tls-credentials.ts); plaintext when absent. */
  readonly credentials?: ServerCredentials;
  /** Authentication and per-topic permissions from a tokens file; every call is allowed when absent. */
  readonly auth?: AuthorizeOptions;
}

/** A running gRPC edge. */
export interface GrpcServer {
  /** The port actually bound (useful with port 0). */
  readonly port: number;
  /** Stops accepting calls, ends streams, waits up to `graceMs` for calls to finish. */
  shutdown(graceMs: number): Promise<void>;
}

const SERVICES = ["", "sluice.v1.BrokerService", "sluice.v1.AdminService"];

/** Serves the broker over gRPC, with health and reflection. */
export async function startGrpcServer(broker: Broker, logger: Logger, options: GrpcServerOptions): Promise<GrpcServer> {
  const server = new Server({
    "grpc.max_receive_message_length": options.maxRequestBytes,
    "grpc.max_send_message_length": -1,
    "grpc.keepalive_time_ms": options.keepaliveMs,
    "grpc.keepalive_timeout_ms": options.keepaliveTimeoutMs ?? 20_000,
    // Clients may ping idle connections this often without being cut off.
    "grpc.http2.min_ping_interval_without_data_ms": 5_000,
    "grpc.keepalive_permit_without_calls": 1,
  });
  // Every service, health and reflection included, goes through the guard when access control is on.
  const guarded = options.auth === undefined ? undefined : authorize(server, options.auth, logger);
  const target: Pick<Server, "addService"> = guarded ?? server;
  const streamLimits = {
    maxStreamsPerConnection: options.maxStreamsPerConnection ?? DEFAULT_MAX_STREAMS_PER_CONNECTION,
    maxPendingBytes: options.maxPendingBytes ?? DEFAULT_MAX_PENDING_BYTES,
  };
  target.addService(grpcServiceDefinition(BrokerService), brokerService(broker, logger.child({ svc: "broker" }), streamLimits));
  target.addService(grpcServiceDefinition(AdminService), adminService(broker, logger.child({ svc: "admin" })));
  const health = new HealthImplementation(Object.fromEntries(SERVICES.map((s) => [s, "SERVING" as const])));
  health.addToServer(target as Parameters<HealthImplementation["addToServer"]>[0]);
  addReflection(target);

  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${options.host}:${options.port}`, options.credentials ?? ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );

  return {
    port,
    async shutdown(graceMs) {
      for (const s of SERVICES) health.setStatus(s, "NOT_SERVING");
      guarded?.close();
      // Stop accepting calls first; calls in progress go on.
      const idle = new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
      // Ends every stream (UNAVAILABLE, so clients reconnect elsewhere or later)
      // and waits until queued publishes and acks are written.
      await broker.close();
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<"late">((resolve) => (timer = setTimeout(() => resolve("late"), graceMs)));
      const done = new AbortController();
      // tryShutdown can miss a session the client closed at that moment (see server-drained.ts).
      const drained = serverDrained(server, done.signal);
      if ((await Promise.race([idle, drained, late])) === "late") server.forceShutdown();
      clearTimeout(timer);
      done.abort();
    },
  };
}
