import { createRequire } from "node:module";
import path from "node:path";
import { create, toBinary } from "@bufbuild/protobuf";
import type { DescFile } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import type { Server } from "@grpc/grpc-js";
import { loadFileDescriptorSetFromBuffer, loadSync, type PackageDefinition } from "@grpc/proto-loader";
import { ReflectionService } from "@grpc/reflection";
import { protoPath as healthProtoPath } from "grpc-health-check";
import { file_sluice_v1_admin } from "../../gen/sluice/v1/admin_pb.js";
import { file_sluice_v1_broker } from "../../gen/sluice/v1/broker_pb.js";

/** Every file `roots` depend on, dependencies first. */
function withDependencies(roots: DescFile[]): DescFile[] {
  const out: DescFile[] = [];
  const seen = new Set<string>();
  const visit = (f: DescFile) => {
    if (seen.has(f.name)) return;
    seen.add(f.name);
    f.dependencies.forEach(visit);
    out.push(f);
  };
  roots.forEach(visit);
  return out;
}

/**
 * Adds gRPC server reflection (v1 and v1alpha) describing the Sluice
 * services, the health service and reflection itself, so grpcurl needs no
 * proto files. Sluice's descriptors come from the generated code, so they
 * always match what is served.
 */
export function addReflection(server: Server): void {
  const files = withDependencies([file_sluice_v1_broker, file_sluice_v1_admin]);
  const set = create(FileDescriptorSetSchema, { file: files.map((f) => f.proto) });
  const sluice = loadFileDescriptorSetFromBuffer(Buffer.from(toBinary(FileDescriptorSetSchema, set)));
  const require = createRequire(import.meta.url);
  const reflectionProtos = path.join(path.dirname(require.resolve("@grpc/reflection")), "..", "proto");
  const extra: PackageDefinition = loadSync(
    [healthProtoPath, "grpc/reflection/v1/reflection.proto", "grpc/reflection/v1alpha/reflection.proto"],
    { includeDirs: [reflectionProtos] },
  );
  new ReflectionService({ ...extra, ...sluice }).addToServer(server);
}
