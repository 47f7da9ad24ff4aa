import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { AdminService } from "../src/gen/sluice/v1/admin_pb.js";
import { BrokerService, PublishRequestSchema, PublishResponseSchema } from "../src/gen/sluice/v1/broker_pb.js";
import { grpcClientConstructor, grpcServiceDefinition } from "../src/grpc-service.js";

describe("grpcServiceDefinition", () => {
  it("names each method's path after the protobuf service and method", () => {
    const def = grpcServiceDefinition(BrokerService);
    expect(def.publish.path).toBe("/sluice.v1.BrokerService/Publish");
    expect(def.publishStream.path).toBe("/sluice.v1.BrokerService/PublishStream");
    expect(grpcServiceDefinition(AdminService).getGroup.path).toBe("/sluice.v1.AdminService/GetGroup");
  });

  it("derives the streaming flags from the method kind", () => {
    const def = grpcServiceDefinition(BrokerService);
    expect([def.publish.requestStream, def.publish.responseStream]).toEqual([false, false]);
    expect([def.subscribe.requestStream, def.subscribe.responseStream]).toEqual([true, true]);
  });

  it("serialises with toBinary and deserialises with fromBinary", () => {
    const def = grpcServiceDefinition(BrokerService);
    const request = create(PublishRequestSchema, { topic: "t", messages: [{ payload: new Uint8Array([1, 2]) }] });
    const bytes = def.publish.requestSerialize(request);
    expect(Buffer.isBuffer(bytes)).toBe(true);
    expect(def.publish.requestDeserialize(bytes)).toEqual(request);
    const response = create(PublishResponseSchema, { results: [{ partition: 1, offset: 2n ** 63n }] });
    expect(def.publish.responseDeserialize(def.publish.responseSerialize(response))).toEqual(response);
  });

  it("gives grpc-js a client class with one method per RPC", () => {
    const Ctor = grpcClientConstructor(AdminService);
    expect(Ctor.serviceName).toBe("sluice.v1.AdminService");
    expect(Object.keys(Ctor.service).sort()).toEqual(AdminService.methods.map((m) => m.localName).sort());
    expect(Object.keys(Ctor.service)).toContain("createTopic");
    expect(typeof Ctor.prototype.createTopic).toBe("function");
  });
});
