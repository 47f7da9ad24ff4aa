import { describe, expect, it } from "vitest";
import { Code, SendBatchError, SluiceClient, type PublishResult } from "../../src/index.js";
import { LossyProxy } from "../helpers/lossy-proxy.js";
import { sharedBroker } from "../helpers/shared-broker.js";

const shared = sharedBroker();

interface Stored {
  text: string;
  messageId: string;
}

/** Reads the first `count` messages of `topic` (one partition) through a fresh group: what is stored at each offset. */
async function readStored(topic: string, count: number): Promise<Stored[]> {
  const stored: Stored[] = [];
  let seen = 0;
  for await (const m of shared.client.subscribe(topic, "verify", { maxInFlight: 5000 })) {
    if (stored[Number(m.offset)] === undefined) seen++;
    stored[Number(m.offset)] = { text: m.text(), messageId: m.messageId };
    m.ack();
    if (seen === count) break;
  }
  return stored;
}

const texts = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

/** The SendBatchError `batch` rejects with. */
async function rejection(batch: Promise<PublishResult[]>): Promise<SendBatchError> {
  const error = await batch.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(SendBatchError);
  return error as SendBatchError;
}

describe("Publisher.sendBatch against a broker", () => {
  it("stores interleaved send and sendBatch calls in call order, each message at the position its call resolved with, with its own id", async () => {
    await shared.client.createTopic("interleaved", { partitions: 1 });
    const publisher = shared.client.publisher("interleaved");
    // A batch of 2,500 spans three requests (maxBatchMessages 1000).
    const calls: Array<{ sent: string[]; result: Promise<PublishResult[]> }> = [];
    for (const [k, size] of [1, 300, 1, 1, 2500, 1, 40].entries()) {
      const sent = texts(`call-${k}`, size);
      calls.push({ sent, result: size === 1 ? publisher.send(sent[0]!).then((r) => [r]) : publisher.sendBatch(sent) });
    }
    const results = (await Promise.all(calls.map((c) => c.result))).flat();
    await publisher.close();

    const sent = calls.flatMap((c) => c.sent);
    expect(results.map((r) => r.offset)).toEqual(sent.map((_, i) => BigInt(i)));
    expect(results.every((r) => r.partition === 0 && !r.duplicate)).toBe(true);
    const stored = await readStored("interleaved", sent.length);
    expect(stored.map((s) => s.text)).toEqual(sent);
    const ids = stored.map((s) => s.messageId);
    expect(ids.every((id) => id.length > 0)).toBe(true);
    expect(new Set(ids).size).toBe(sent.length);
  });

  it("resends a batch whose confirmation was lost, after a reconnect, with the same ids: the broker stores it once and answers duplicates", async () => {
    await shared.client.createTopic("resent", { partitions: 1 });
    const proxy = await LossyProxy.start(shared.broker.port);
    const viaProxy = new SluiceClient(proxy.address, { reconnect: { initialDelayMs: 20, maxDelayMs: 100 } });
    try {
      const publisher = viaProxy.publisher("resent");
      expect(await publisher.sendBatch(["first"])).toEqual([{ partition: 0, offset: 0n, duplicate: false }]);
      proxy.dropResponses(true);
      const sent = texts("lost", 300);
      const batch = publisher.sendBatch(sent);
      // The broker has stored the batch, but its confirmation never reached the publisher.
      const stored = await readStored("resent", 301);
      proxy.dropResponses(false);
      proxy.cut();
      const results = await batch;
      expect(results).toEqual(sent.map((_, i) => ({ partition: 0, offset: BigInt(i + 1), duplicate: true })));
      expect(stored.slice(1).map((s) => s.text)).toEqual(sent);
      const topic = await shared.client.getTopic("resent");
      expect(topic.partitions[0]!.endOffset).toBe(301n);
      await publisher.close();
    } finally {
      await viaProxy.close();
      await proxy.close();
    }
  });

  it("publishes a batch far larger than maxUnconfirmedBytes without waiting forever", async () => {
    await shared.client.createTopic("budget", { partitions: 1 });
    const publisher = shared.client.publisher("budget", { maxUnconfirmedBytes: 4096 });
    const payload = new Uint8Array(100);
    const batch = publisher.sendBatch(Array.from({ length: 2000 }, () => payload));
    const after = publisher.send("after");
    const results = await batch;
    expect(results.map((r) => r.offset)).toEqual(results.map((_, i) => BigInt(i)));
    expect(await after).toMatchObject({ offset: 2000n });
    await publisher.close();
  });

  it("rejects a batch with an invalid message with INVALID_ARGUMENT naming its index, and stores none of it", async () => {
    await shared.client.createTopic("invalid", { partitions: 1 });
    const publisher = shared.client.publisher("invalid");
    const error = await rejection(publisher.sendBatch(["a", "b", { payload: 42 as never }, "d"]));
    expect(error).toMatchObject({ code: Code.InvalidArgument, index: 2, results: [undefined, undefined, undefined, undefined] });
    expect(error.message).toContain("message 2 of the batch");
    // Offset 0: nothing of the refused batch was stored before it.
    expect(await publisher.sendBatch(["next"])).toEqual([{ partition: 0, offset: 0n, duplicate: false }]);
    await publisher.close();
  });

  it("rejects a batch to a missing topic with NOT_FOUND, index 0 and no positions", async () => {
    const publisher = shared.client.publisher("no-such-topic");
    const error = await rejection(publisher.sendBatch(["a", "b", "c"]));
    expect(error).toMatchObject({ code: Code.NotFound, index: 0, results: [undefined, undefined, undefined] });
    await publisher.close();
  });

  it("when a later request of a batch is refused, reports the positions of the messages stored by the earlier ones", async () => {
    await shared.client.createTopic("partly", { partitions: 1 });
    const publisher = shared.client.publisher("partly", { maxBatchMessages: 2 });
    const error = await rejection(publisher.sendBatch(["a", "b", { payload: "c", partition: 7 }, "d", "e"]));
    expect(error).toMatchObject({ code: Code.InvalidArgument, index: 2 });
    expect(error.results).toEqual([
      { partition: 0, offset: 0n, duplicate: false },
      { partition: 0, offset: 1n, duplicate: false },
      undefined,
      undefined,
      { partition: 0, offset: 2n, duplicate: false },
    ]);
    await publisher.close();
  });

  it("resolves an empty batch with [] and rejects any batch after close() with FAILED_PRECONDITION", async () => {
    await shared.client.createTopic("empty", { partitions: 1 });
    const publisher = shared.client.publisher("empty");
    expect(await publisher.sendBatch([])).toEqual([]);
    await publisher.close();
    const error = await rejection(publisher.sendBatch(["late"]));
    expect(error).toMatchObject({ code: Code.FailedPrecondition, index: 0, results: [undefined] });
    expect((await shared.client.getTopic("empty")).partitions[0]!.endOffset).toBe(0n);
  });
});
