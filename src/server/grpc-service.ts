import type { DescMessage, DescService, MessageShape } from "@bufbuild/protobuf";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import type { MethodDefinition, ServiceDefinition } from "@grpc/grpc-js";
import { PublishStreamRequestSchema, SubscribeRequestSchema } from "../../gen/sluice/v1/broker_pb.js";
import { decodePublishStreamRequest } from "./publish-request-decoder.js";
import { decodeSubscribeRequest } from "./subscribe-request-decoder.js";

/**
 * What the deserializer yields for bytes that are not a valid request, so the
 * handler can answer INVALID_ARGUMENT (grpc-js would turn a throw into INTERNAL).
 */
export class MalformedRequest {
  constructor(readonly reason: string) {}
}

/** A response that is already encoded; the serializer passes it through. */
export type Encoded = Uint8Array;

/**
 * Builds a grpc-js ServiceDefinition from a protobuf-es service descriptor:
 * paths `/package.Service/Method`, protobuf-es binary (de)serialisation.
 * Responses may also be given pre-encoded as a Uint8Array.
 */
export function grpcServiceDefinition(service: DescService): ServiceDefinition {
  const def: Record<string, MethodDefinition<unknown, unknown>> = {};
  for (const m of service.methods) {
    def[m.localName] = {
      path: `/${service.typeName}/${m.name}`,
      requestStream: m.methodKind === "client_streaming" || m.methodKind === "bidi_streaming",
      responseStream: m.methodKind === "server_streaming" || m.methodKind === "bidi_streaming",
      requestSerialize: serializer(m.input),
      requestDeserialize: deserializer(m.input),
      responseSerialize: serializer(m.output),
      responseDeserialize: deserializer(m.output),
      originalName: m.name,
    };
  }
  return def as ServiceDefinition;
}

function serializer<T extends DescMessage>(schema: T): (value: unknown) => Buffer {
  return (value) => {
    const bytes = value instanceof Uint8Array ? value : toBinary(schema, value as MessageShape<T>);
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  };
}

/**
 * Hand-written decoders for hot-path requests, by message type name. Each
 * returns undefined for input it does not take, which protobuf-es then
 * decodes (so results and errors stay exactly protobuf-es's).
 */
const FAST_DECODERS: ReadonlyMap<string, (bytes: Uint8Array) => unknown> = new Map<string, (bytes: Uint8Array) => unknown>([
  [SubscribeRequestSchema.typeName, decodeSubscribeRequest],
  [PublishStreamRequestSchema.typeName, decodePublishStreamRequest],
]);

function deserializer<T extends DescMessage>(schema: T): (bytes: Buffer) => unknown {
  const fast = FAST_DECODERS.get(schema.typeName);
  return (bytes) => {
    try {
      const decoded = fast?.(bytes);
      if (decoded !== undefined) return decoded;
      return fromBinary(schema, bytes);
    } catch (err) {
      return new MalformedRequest(err instanceof Error ? err.message : String(err));
    }
  };
}
