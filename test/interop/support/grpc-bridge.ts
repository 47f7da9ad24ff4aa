import { type DescMessage, type DescService, fromBinary, toBinary } from "@bufbuild/protobuf";
import type { MethodDefinition, ServiceDefinition } from "@grpc/grpc-js";

/**
 * A grpc-js ServiceDefinition for a protobuf-es service descriptor: messages
 * are written with `toBinary` and read with `fromBinary`. Keys are the
 * methods' local names (`publish`), paths are `/sluice.v1.BrokerService/Publish`.
 */
export function serviceDefinition(service: DescService): ServiceDefinition {
  return definition(service, (schema) => ({
    serialize: (value) => Buffer.from(toBinary(schema, value as never)),
    deserialize: (bytes) => fromBinary(schema, bytes),
  }));
}

/**
 * The same definition with identity (de)serializers: requests and responses
 * are raw `Buffer`s, so a client can send bytes that are not valid protobuf.
 */
export function rawServiceDefinition(service: DescService): ServiceDefinition {
  return definition(service, () => ({ serialize: (value) => value as Buffer, deserialize: (bytes) => bytes }));
}

interface Codec {
  serialize(value: unknown): Buffer;
  deserialize(bytes: Buffer): unknown;
}

function definition(service: DescService, codec: (schema: DescMessage) => Codec): ServiceDefinition {
  const methods: Record<string, MethodDefinition<unknown, unknown>> = {};
  for (const method of service.methods) {
    const input = codec(method.input);
    const output = codec(method.output);
    methods[method.localName] = {
      path: `/${service.typeName}/${method.name}`,
      originalName: method.name,
      requestStream: method.methodKind === "client_streaming" || method.methodKind === "bidi_streaming",
      responseStream: method.methodKind === "server_streaming" || method.methodKind === "bidi_streaming",
      requestSerialize: input.serialize,
      requestDeserialize: input.deserialize,
      responseSerialize: output.serialize,
      responseDeserialize: output.deserialize,
    };
  }
  return methods;
}
