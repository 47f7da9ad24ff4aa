import { create } from "@bufbuild/protobuf";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { PublishStreamRequestSchema } from "../../gen/sluice/v1/broker_pb.js";
import { AdminService, call } from "../helpers/grpc-clients.js";
import { InProcessBroker } from "../helpers/in-process-broker.js";
import { rawPublishStream } from "../helpers/raw-grpc.js";

const enc = new TextEncoder();
let b: InProcessBroker;
beforeEach(async () => {
  b = await InProcessBroker.start();
  await call(b.clients.admin, AdminService.method.createTopic, { name: "t", partitions: 2 });
});
afterEach(async () => {
  await b.stop();
});

const open = () => rawPublishStream(b.clients.broker);

describe("PublishStream", () => {
  it("answers many pipelined requests in request order with their request ids", async () => {
    const { stream, responses } = open();
    for (let i = 0; i < 500; i++) {
      stream.write(
        create(PublishStreamRequestSchema, {
          requestId: BigInt(1000 + i),
          topic: "t",
          messages: [{ payload: enc.encode(`a${i}`), partition: 0 }, { payload: enc.encode(`b${i}`), partition: 1 }],
        }),
      );
    }
    stream.end();
    const rs = await responses;
    expect(rs.map((r) => r.requestId)).toEqual(Array.from({ length: 500 }, (_, i) => BigInt(1000 + i)));
    expect(rs.map((r) => r.results[0]!.offset)).toEqual(Array.from({ length: 500 }, (_, i) => BigInt(i)));
    expect(rs.every((r) => r.results[1]!.partition === 1 && r.error === undefined)).toBe(true);
  });

  it("answers a failing request with its error and keeps the stream open for the others", async () => {
    const { stream, responses } = open();
    stream.write(create(PublishStreamRequestSchema, { requestId: 1n, topic: "t", messages: [{ payload: enc.encode("ok") }] }));
    stream.write(create(PublishStreamRequestSchema, { requestId: 2n, topic: "missing", messages: [{ payload: enc.encode("x") }] }));
    stream.write(create(PublishStreamRequestSchema, { requestId: 3n, topic: "t", messages: [] }));
    stream.write(create(PublishStreamRequestSchema, { requestId: 4n, topic: "t", messages: [{ payload: enc.encode("ok") }] }));
    stream.end();
    const rs = await responses;
    expect(rs.map((r) => [r.requestId, r.error?.code ?? 0])).toEqual([
      [1n, 0],
      [2n, 5], // NOT_FOUND
      [3n, 3], // INVALID_ARGUMENT
      [4n, 0],
    ]);
    expect(rs[1]!.error!.message).toContain("missing");
    expect(rs[1]!.results).toEqual([]);
  });
});
