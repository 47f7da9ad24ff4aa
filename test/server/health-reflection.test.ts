import { createRequire } from "node:module";
import path from "node:path";
import { create, createFileRegistry, fromBinary } from "@bufbuild/protobuf";
import { type FileDescriptorProto, FileDescriptorProtoSchema, FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import {
  type Client,
  type ClientDuplexStream,
  credentials,
  type GrpcObject,
  loadPackageDefinition,
  type ServiceClientConstructor,
  type ServiceError,
} from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { protoPath as healthProtoPath } from "grpc-health-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InProcessBroker } from "../helpers/in-process-broker.js";

const require = createRequire(import.meta.url);
const REFLECTION_PROTOS = path.join(path.dirname(require.resolve("@grpc/reflection")), "..", "proto");

/** Loads the client constructor `fullName` (e.g. grpc.health.v1.Health) from proto files. */
function loadClient(files: string[], includeDirs: string[], fullName: string): ServiceClientConstructor {
  const pkg = loadPackageDefinition(loadSync(files, { includeDirs, enums: String, longs: String, keepCase: true }));
  let node: unknown = pkg;
  for (const part of fullName.split(".")) node = (node as GrpcObject)[part];
  return node as ServiceClientConstructor;
}

let b: InProcessBroker;
const clients: Client[] = [];
beforeAll(async () => {
  b = await InProcessBroker.start();
});
afterAll(async () => {
  for (const c of clients) c.close();
  await b.stop();
});

function connect(Ctor: ServiceClientConstructor): Client {
  const c = new Ctor(b.address, credentials.createInsecure());
  clients.push(c);
  return c;
}

describe("the standard health service", () => {
  const check = (service: string) => {
    const Health = loadClient([healthProtoPath], [], "grpc.health.v1.Health");
    const client = connect(Health) as Client & {
      check(req: { service: string }, cb: (err: ServiceError | null, res: { status: string }) => void): void;
    };
    return new Promise<{ status: string }>((resolve, reject) =>
      client.check({ service }, (err, res) => (err ? reject(err) : resolve(res))),
    );
  };

  it("answers SERVING for the whole server", async () => {
    expect((await check("")).status).toBe("SERVING");
  });

  it.each(["sluice.v1.BrokerService", "sluice.v1.AdminService"])("answers SERVING for %s", async (service) => {
    expect((await check(service)).status).toBe("SERVING");
  });

  it("answers NOT_FOUND for a service the broker does not have", async () => {
    await expect(check("no.such.Service")).rejects.toMatchObject({ code: 5 });
  });
});

interface ReflectionResponse {
  list_services_response?: { service: Array<{ name: string }> };
  file_descriptor_response?: { file_descriptor_proto: Buffer[] };
  error_response?: { error_code: number; error_message: string };
}

/** One request/response exchange on a ServerReflectionInfo stream of reflection `version`. */
async function reflect(version: "v1" | "v1alpha", request: Record<string, string>): Promise<ReflectionResponse> {
  const Ctor = loadClient(
    [`grpc/reflection/${version}/reflection.proto`],
    [REFLECTION_PROTOS],
    `grpc.reflection.${version}.ServerReflection`,
  );
  const client = connect(Ctor) as Client & { ServerReflectionInfo(): ClientDuplexStream<object, ReflectionResponse> };
  const stream = client.ServerReflectionInfo();
  return new Promise((resolve, reject) => {
    stream.once("data", (res: ReflectionResponse) => {
      resolve(res);
      stream.end();
    });
    stream.on("error", reject);
    stream.write(request);
  });
}

/** The files in an order where each comes after its imports (what a FileDescriptorSet needs). */
function dependenciesFirst(byName: Map<string, FileDescriptorProto>): FileDescriptorProto[] {
  const out: FileDescriptorProto[] = [];
  const done = new Set<string>();
  const visit = (f: FileDescriptorProto) => {
    if (done.has(f.name)) return;
    done.add(f.name);
    for (const d of f.dependency) visit(byName.get(d)!);
    out.push(f);
  };
  byName.forEach(visit);
  return out;
}

const decodeFiles = (res: ReflectionResponse): FileDescriptorProto[] =>
  (res.file_descriptor_response?.file_descriptor_proto ?? []).map((bytes) => fromBinary(FileDescriptorProtoSchema, bytes));

describe("server reflection", () => {
  it.each(["v1", "v1alpha"] as const)("lists the Sluice, health and reflection services (%s)", async (version) => {
    const res = await reflect(version, { list_services: "" });
    const names = res.list_services_response!.service.map((s) => s.name);
    expect(names).toEqual(
      expect.arrayContaining([
        "sluice.v1.BrokerService",
        "sluice.v1.AdminService",
        "grpc.health.v1.Health",
        "grpc.reflection.v1.ServerReflection",
      ]),
    );
  });

  it("returns the file descriptor that declares sluice.v1.BrokerService, with its methods", async () => {
    const res = await reflect("v1", { file_containing_symbol: "sluice.v1.BrokerService" });
    const files = decodeFiles(res);
    const file = files.find((f) => f.service.some((s) => s.name === "BrokerService"));
    expect(file, "no returned file declares BrokerService").toBeDefined();
    expect(file!.name).toBe("sluice/v1/broker.proto");
    expect(file!.package).toBe("sluice.v1");
    const service = file!.service.find((s) => s.name === "BrokerService")!;
    const methods = Object.fromEntries(service.method.map((m) => [m.name, m]));
    expect(methods.Publish).toMatchObject({ inputType: ".sluice.v1.PublishRequest", outputType: ".sluice.v1.PublishResponse" });
    expect(methods.Subscribe).toMatchObject({ clientStreaming: true, serverStreaming: true });
    expect(methods.PublishStream).toMatchObject({ clientStreaming: true, serverStreaming: true });
  });

  it("serves every file the Sluice descriptors depend on, so a client can build them without proto files", async () => {
    const byName = new Map<string, FileDescriptorProto>();
    const queue = ["sluice/v1/broker.proto", "sluice/v1/admin.proto"];
    while (queue.length > 0) {
      const name = queue.shift()!;
      if (byName.has(name)) continue;
      const res = await reflect("v1", { file_by_filename: name });
      expect(res.error_response, `reflection has no ${name}`).toBeUndefined();
      for (const f of decodeFiles(res)) {
        byName.set(f.name, f);
        queue.push(...f.dependency);
      }
    }
    // Building a registry resolves every import and type reference, or throws.
    const registry = createFileRegistry(create(FileDescriptorSetSchema, { file: dependenciesFirst(byName) }));
    expect(registry.getService("sluice.v1.AdminService")?.methods.map((m) => m.name)).toContain("CreateTopic");
    expect(registry.getService("sluice.v1.BrokerService")?.methods.map((m) => m.name)).toContain("Subscribe");
    expect(registry.getMessage("sluice.v1.SubscribeRequest")?.fields.map((f) => f.name)).toEqual(
      expect.arrayContaining(["open", "ack", "nack", "extend"]),
    );
  });

  it("answers NOT_FOUND for a symbol the broker does not have", async () => {
    const res = await reflect("v1", { file_containing_symbol: "no.such.Symbol" });
    expect(res.error_response?.error_code).toBe(5);
  });
});
