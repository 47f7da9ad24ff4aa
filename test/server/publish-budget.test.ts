import { create } from "@bufbuild/protobuf";
import { afterEach, describe, expect, it } from "vitest";
import { PublishStreamRequestSchema } from "../../gen/sluice/v1/broker_pb.js";
import { AdminService, call } from "../helpers/grpc-clients.js";
import { InProcessBroker } from "../helpers/in-process-broker.js";
import { rawPublishStream } from "../helpers/raw-grpc.js";

const REQUEST_MESSAGES = 4;
const PAYLOAD_BYTES = 1024;
const REQUEST_BYTES = REQUEST_MESSAGES * PAYLOAD_BYTES;

let b: InProcessBroker | undefined;
afterEach(async () => {
  await b?.stop();
  b = undefined;
});

/** Starts a broker whose publish budget is `limit` bytes, and records the most it ever held. */
async function brokerWithBudget(limit: number): Promise<{ broker: InProcessBroker; maxUsed: () => number }> {
  const broker = await InProcessBroker.start({ maxPendingPublishBytes: limit });
  await call(broker.clients.admin, AdminService.method.createTopic, { name: "t", partitions: 1 });
  const budget = broker.broker.publishBudget;
  let max = 0;
  const take = budget.take.bind(budget);
  budget.take = (bytes: number) => {
    take(bytes);
    max = Math.max(max, budget.used);
  };
  return { broker, maxUsed: () => max };
}

/** Writes `count` requests of {@link REQUEST_MESSAGES} 1 KiB messages at once, without waiting for answers. */
function publishAll(broker: InProcessBroker, stream: number, count: number) {
  const { stream: s, responses } = rawPublishStream(broker.clients.broker);
  for (let i = 0; i < count; i++) {
    s.write(
      create(PublishStreamRequestSchema, {
        requestId: BigInt(i),
        topic: "t",
        messages: Array.from({ length: REQUEST_MESSAGES }, (_, j) => ({ payload: new Uint8Array(PAYLOAD_BYTES).fill(stream * 16 + j) })),
      }),
    );
  }
  s.end();
  return responses;
}

describe("the publish budget (--max-pending-publish-bytes)", () => {
  it("stops reading PublishStreams while the broker holds its limit of unstored publishes, and stores every message", async () => {
    // A limit below one request: each stream may then have one request
    // accepted and not yet stored at a time, whatever the client sends.
    const { broker, maxUsed } = await brokerWithBudget(1024);
    b = broker;
    const [first, second] = await Promise.all([publishAll(broker, 0, 150), publishAll(broker, 1, 150)]);
    for (const rs of [first!, second!]) {
      expect(rs.map((r) => r.requestId)).toEqual(Array.from({ length: 150 }, (_, i) => BigInt(i)));
      expect(rs.every((r) => r.error === undefined && r.results.length === REQUEST_MESSAGES)).toBe(true);
    }
    const offsets = [...first!, ...second!].flatMap((r) => r.results.map((m) => m.offset)).sort((x, y) => (x < y ? -1 : 1));
    expect(offsets).toEqual(Array.from({ length: 2 * 150 * REQUEST_MESSAGES }, (_, i) => BigInt(i)));
    expect(maxUsed()).toBeGreaterThanOrEqual(REQUEST_BYTES);
    expect(maxUsed()).toBeLessThanOrEqual(2 * REQUEST_BYTES);
    expect(broker.broker.publishBudget.used).toBe(0);
    const topic = await call(broker.clients.admin, AdminService.method.getTopic, { name: "t" });
    expect(topic.topic!.partitions[0]!.endOffset).toBe(BigInt(2 * 150 * REQUEST_MESSAGES));
  });

  it("lets many requests wait for storage at once under a roomy limit", async () => {
    // The same load under the default-sized limit: the bound above comes
    // from the budget, not from the stream or the client.
    const { broker, maxUsed } = await brokerWithBudget(16 << 20);
    b = broker;
    const [rs] = await Promise.all([publishAll(broker, 0, 150), publishAll(broker, 1, 150)]);
    expect(rs!.every((r) => r.error === undefined)).toBe(true);
    expect(maxUsed()).toBeGreaterThan(2 * REQUEST_BYTES);
  });
});
