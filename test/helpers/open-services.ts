import { createRequire } from "node:module";
import path from "node:path";
import {
  type ChannelCredentials,
  type Client,
  credentials,
  type GrpcObject,
  loadPackageDefinition,
  type ServiceClientConstructor,
  type ServiceError,
} from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { protoPath as healthProtoPath } from "grpc-health-check";
import { bearer } from "./grpc-clients.js";

const require = createRequire(import.meta.url);
const REFLECTION_PROTOS = path.join(path.dirname(require.resolve("@grpc/reflection")), "..", "proto");

function loadClient(files: string[], includeDirs: string[], fullName: string): ServiceClientConstructor {
  const pkg = loadPackageDefinition(loadSync(files, { includeDirs, enums: String, longs: String, keepCase: true }));
  let node: unknown = pkg;
  for (const part of fullName.split(".")) node = (node as GrpcObject)[part];
  return node as ServiceClientConstructor;
}

/** How to reach the broker: plaintext and anonymous unless given. */
export interface Reach {
  readonly token?: string;
  readonly credentials?: ChannelCredentials;
}

function open(Ctor: ServiceClientConstructor, address: string, reach: Reach): Client {
  return new Ctor(address, reach.credentials ?? credentials.createInsecure(), {
    interceptors: reach.token === undefined ? [] : [bearer(reach.token)],
  });
}

/** The standard health check of the whole server: its status, or rejects with the ServiceError. */
export async function healthCheck(address: string, reach: Reach = {}): Promise<string> {
  const client = open(loadClient([healthProtoPath], [], "grpc.health.v1.Health"), address, reach) as Client & {
    check(req: { service: string }, cb: (err: ServiceError | null, res: { status: string }) => void): void;
  };
  try {
    return await new Promise<string>((resolve, reject) =>
      client.check({ service: "" }, (err, res) => (err ? reject(err) : resolve(res.status))),
    );
  } finally {
    client.close();
  }
}

/** The service names server reflection (v1) lists, or rejects with the ServiceError. */
export async function listServices(address: string, reach: Reach = {}): Promise<string[]> {
  const Ctor = loadClient(["grpc/reflection/v1/reflection.proto"], [REFLECTION_PROTOS], "grpc.reflection.v1.ServerReflection");
  const client = open(Ctor, address, reach) as Client & { ServerReflectionInfo(): NodeJS.EventEmitter & { write(m: unknown): void; end(): void } };
  try {
    return await new Promise<string[]>((resolve, reject) => {
      const stream = client.ServerReflectionInfo();
      stream.on("data", (r: { list_services_response?: { service: Array<{ name: string }> } }) =>
        resolve((r.list_services_response?.service ?? []).map((s) => s.name)),
      );
      stream.on("error", reject);
      stream.write({ list_services: "" });
      stream.end();
    });
  } finally {
    client.close();
  }
}
