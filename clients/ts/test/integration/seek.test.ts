import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, SluiceClient, type ReceivedMessage } from "../../src/index.js";
import { startBroker, type BrokerProcess } from "../helpers/broker-process.js";

let broker: BrokerProcess;
let client: SluiceClient;

beforeAll(async () => {
  broker = await startBroker();
  client = new SluiceClient(broker.address);
});

afterAll(async () => {
  await client?.close();
  await broker?.stop();
});

/** The next `n` messages of `it`, each acked, with the ack confirmed durable. */
async function takeAcked(it: AsyncIterator<ReceivedMessage>, n: number): Promise<ReceivedMessage[]> {
  const out: ReceivedMessage[] = [];
  while (out.length < n) {
    const r = await it.next();
    if (r.done) throw new Error("the subscription ended");
    out.push(r.value);
  }
  await Promise.all(out.map((m) => m.ack()));
  return out;
}

describe("seekGroup", () => {
  it("moving back to an offset re-delivers from there to a connected subscription", async () => {
    await client.createTopic("seek");
    await client.publish("seek", ["m0", "m1", "m2", "m3", "m4"]);
    // Confirmed acks: every ack is applied before the seek, none arrives after it.
    const sub = client.subscribe("seek", "g", { confirmAcks: true });
    const it = sub[Symbol.asyncIterator]();
    expect((await takeAcked(it, 5)).map((m) => m.text())).toEqual(["m0", "m1", "m2", "m3", "m4"]);

    const moved = await client.seekGroup("seek", "g", { kind: "offset", offset: 2n });
    expect(moved.partitions[0]).toMatchObject({ committedOffset: 2n, lag: 3n });
    const again = await takeAcked(it, 3);
    expect(again.map((m) => [m.offset, m.text()])).toEqual([
      [2n, "m2"],
      [3n, "m3"],
      [4n, "m4"],
    ]);

    const perPartition = await client.seekGroup("seek", "g", { offsets: [{ partition: 0, offset: 4n }] });
    expect(perPartition.partitions[0]!.committedOffset).toBe(4n);
    expect((await takeAcked(it, 1)).map((m) => m.offset)).toEqual([4n]);

    const latest = await client.seekGroup("seek", "g", { kind: "latest" });
    expect(latest.partitions[0]).toMatchObject({ committedOffset: 5n, lag: 0n });
    await sub.close();
  });

  it("moving to a timestamp lands on the first message published at or after it", async () => {
    await client.createTopic("seek-time");
    for (let i = 0; i < 4; i++) await client.publish("seek-time", [`t${i}`]);
    const sub = client.subscribe("seek-time", "g", { confirmAcks: true });
    const all = await takeAcked(sub[Symbol.asyncIterator](), 4);
    await sub.close();
    const time = all[2]!.publishTime!;
    const expected = all.find((m) => m.publishTime!.getTime() >= time.getTime())!.offset;
    const moved = await client.seekGroup("seek-time", "g", { kind: "timestamp", time });
    expect(moved.partitions[0]!.committedOffset).toBe(expected);
    const earliest = await client.seekGroup("seek-time", "g", { kind: "earliest" });
    expect(earliest.partitions[0]!.committedOffset).toBe(0n);
  });

  it("rejects a partition out of range with INVALID_ARGUMENT and an empty offsets list before calling", async () => {
    await client.createTopic("seek-bad");
    await client.createGroup("seek-bad", "g");
    await expect(client.seekGroup("seek-bad", "g", { offsets: [{ partition: 5, offset: 0n }] })).rejects.toMatchObject({
      code: Code.InvalidArgument,
    });
    await expect(client.seekGroup("seek-bad", "g", { offsets: [] })).rejects.toMatchObject({ code: Code.InvalidArgument });
    await expect(client.seekGroup("seek-bad", "nope", { kind: "earliest" })).rejects.toMatchObject({ code: Code.NotFound });
  });
});
