import { rm } from "node:fs/promises";
import { create } from "@bufbuild/protobuf";
import { type ClientDuplexStream, type ServiceError, status } from "@grpc/grpc-js";
import { afterEach, describe, expect, it } from "vitest";
import { type PublishStreamRequest, PublishStreamRequestSchema, type PublishStreamResponse } from "../../gen/sluice/v1/broker_pb.js";
import { AdminService, call } from "../helpers/grpc-clients.js";
import { InProcessBroker } from "../helpers/in-process-broker.js";

const enc = new TextEncoder();
let b: InProcessBroker | undefined;

afterEach(async () => {
  if (b === undefined) return;
  b.clients.close();
  await b.storage.close();
  await rm(b.dataDir, { recursive: true, force: true });
  b = undefined;
});

function openPublishStream(broker: InProcessBroker) {
  const fn = (broker.clients.broker as unknown as Record<string, Function>).publishStream!;
  const stream = fn.call(broker.clients.broker) as ClientDuplexStream<PublishStreamRequest, PublishStreamResponse>;
  const responses: PublishStreamResponse[] = [];
  const firstResponse = new Promise<void>((resolve) => stream.once("data", () => resolve()));
  stream.on("data", (r: PublishStreamResponse) => responses.push(r));
  const ended = new Promise<ServiceError | "end">((resolve) => {
    stream.on("error", (err: ServiceError) => resolve(err));
    stream.on("end", () => resolve("end"));
  });
  return { stream, responses, firstResponse, ended };
}

describe("shutdown", () => {
  it("ends an idle PublishStream with UNAVAILABLE instead of waiting for the client, so shutdown completes", async () => {
    b = await InProcessBroker.start();
    await call(b.clients.admin, AdminService.method.createTopic, { name: "t", partitions: 1 });
    const { stream, responses, firstResponse, ended } = openPublishStream(b);
    stream.write(create(PublishStreamRequestSchema, { requestId: 1n, topic: "t", messages: [{ payload: enc.encode("stored") }] }));
    await firstResponse;

    // The client keeps its stream open, as an idle Publisher does. The grace
    // is far longer than the test's timeout: shutdown must not wait it out.
    await b.server.shutdown(600_000);

    const outcome = await ended;
    expect(outcome).not.toBe("end");
    expect((outcome as ServiceError).code).toBe(status.UNAVAILABLE);
    expect((outcome as ServiceError).details).toMatch(/shutting down; reconnect/);
    expect(responses.map((r) => r.requestId)).toEqual([1n]);
    expect(responses[0]!.results[0]!.offset).toBe(0n);
  });
});
