import { describe, expect, it } from "vitest";
import { Broker } from "../../src/broker/broker.js";
import type { Position } from "../../src/broker/group.js";
import { MemoryStorage } from "../../src/storage/memory-storage.js";
import { ManualClock } from "../helpers/manual-clock.js";
import { msg, textCodec } from "../helpers/text-codec.js";

async function open(partitions: number) {
  const mem = new MemoryStorage();
  await mem.open();
  const clock = new ManualClock();
  const broker = await Broker.open({ storage: mem, codec: textCodec, clock });
  await broker.createTopic("t", { partitions, retentionMaxAgeMs: 0, retentionMaxBytes: 0n, dedupeWindowMs: 0 });
  return { broker, clock };
}

const pos = (partition: number, offset: number): Position => ({ partition, offset: BigInt(offset) });

describe("acknowledging a list of positions", () => {
  it("acks leased positions in any order, across partitions, and ignores the rest", async () => {
    const { broker } = await open(2);
    for (let i = 0; i < 20; i++) await broker.publish("t", [{ ...msg(`m${i}`), partition: i % 2 }]);
    const sub = await broker.groups.subscribe({ topic: "t", group: "g", maxInFlight: 1000 });
    const batch = (await sub.next())!;
    expect(batch.deliveries).toHaveLength(20);
    const outcome = sub.ack([
      // a run, a duplicate, a gap, a run backwards, interleaved partitions
      pos(0, 0), pos(0, 1), pos(0, 2), pos(0, 2), pos(1, 0), pos(0, 3), pos(0, 5), pos(0, 9), pos(0, 8), pos(0, 7),
      pos(1, 1), pos(1, 2), pos(1, 4), pos(1, 5),
      // never published, a partition that does not exist
      pos(1, 10), pos(7, 0),
    ])!;
    expect(outcome.acked).toBe(13);
    expect(outcome.ignored).toEqual([pos(0, 2), pos(1, 10), pos(7, 0)]);
    const [p0, p1] = broker.groups.get("t", "g").partitions;
    expect([p0!.acks.floor, p0!.acks.ranges()]).toEqual([4n, [[5n, 6n], [7n, 10n]]]);
    expect([p1!.acks.floor, p1!.acks.ranges()]).toEqual([3n, [[4n, 6n]]]);
    expect([...p0!.inFlight.keys()].sort()).toEqual([4n, 6n]);
    expect([...p1!.inFlight.keys()].sort()).toEqual([3n, 6n, 7n, 8n, 9n]);
    expect(sub.leases.size).toBe(7);
  });

  it("leaves the same state as acking the positions one at a time", async () => {
    let seed = 5;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const one = await open(3);
    const each = await open(3);
    for (const { broker } of [one, each]) {
      for (let i = 0; i < 300; i++) await broker.publish("t", [{ ...msg(`m${i}`), partition: i % 3 }]);
    }
    const subs = await Promise.all([one, each].map(({ broker }) => broker.groups.subscribe({ topic: "t", group: "g", maxInFlight: 1000 })));
    for (const s of subs) expect((await s.next())!.deliveries).toHaveLength(300);
    for (let round = 0; round < 30; round++) {
      const list: Position[] = [];
      const start = Math.floor(rand() * 100);
      const p = Math.floor(rand() * 4); // 3 is no partition
      for (let k = 0; k < 1 + rand() * 10; k++) list.push(pos(p, rand() < 0.8 ? start + k : Math.floor(rand() * 120)));
      const together = subs[0]!.ack(list)!;
      let acked = 0;
      const ignored: Position[] = [];
      for (const x of list) {
        const o = subs[1]!.ack([x])!;
        acked += o.acked;
        ignored.push(...o.ignored);
      }
      expect([together.acked, together.ignored]).toEqual([acked, ignored]);
    }
    const state = ({ broker }: { broker: Broker }) =>
      broker.groups.get("t", "g").partitions.map((gp) => [gp.acks.floor, gp.acks.ranges(), [...gp.inFlight.keys()].sort()]);
    expect(state(one)).toEqual(state(each));
  });
});
