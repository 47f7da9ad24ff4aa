import { createRequire } from "node:module";
import path from "node:path";
import { toBinary } from "@bufbuild/protobuf";
import type { DescFile } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import type { Server } from "@grpc/grpc-js";
import { loadSync, type PackageDefinition } from "@grpc/proto-loader";
import { ReflectionService } from "@grpc/reflection";
import { file_grpc_health_v1_health } from "../../gen/grpc/health/v1/health_pb.js";
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
 * proto files.
 *
 * @grpc/reflection indexes the `fileDescriptorProtos` of each package entry.
 * Going through proto-loader would re-derive descriptors with protobufjs,
 * which merges files and misnames map entries; instead the exact descriptors
 * embedded in the protobuf-es generated code are handed over as they are.
 */
export function addReflection(server: Pick<Server, "addService">): void {
  const files = withDependencies([file_sluice_v1_broker, file_sluice_v1_admin, file_grpc_health_v1_health]);
  const fileDescriptorProtos = files.map((f) => Buffer.from(toBinary(FileDescriptorProtoSchema, f.proto)));
  const exact = {
    "sluice.v1": { format: "Protocol Buffer 3 DescriptorProto", type: {}, fileDescriptorProtos },
  } as unknown as PackageDefinition;
  const require = createRequire(import.meta.url);
  const reflectionProtos = path.join(path.dirname(require.resolve("@grpc/reflection")), "..", "proto");
  const reflection: PackageDefinition = loadSync(
    ["grpc/reflection/v1/reflection.proto", "grpc/reflection/v1alpha/reflection.proto"],
    { includeDirs: [reflectionProtos] },
  );
  new ReflectionService({ ...reflection, ...exact }).addToServer(server);
}
