import { describe, expect, it } from "vitest";
import { ACK_PERSIST_INTERVAL_MS, AckPersister } from "../../src/broker/ack-persister.js";
import type { Group } from "../../src/broker/group.js";
import { WriteQueue } from "../../src/broker/write-queue.js";
import { MemoryStorage } from "../../src/storage/memory-storage.js";
import { ManualClock } from "../helpers/manual-clock.js";

const silent = { debug() {}, info() {}, warn() {}, error() {}, child: () => silent } as never;

/** A group of one partition; each ack() moves its committed offset by one and marks it dirty. */
function fakeGroup() {
  const gp = { partition: 0, dirty: false, committed: 0n, state: () => ({ committed: gp.committed, acked: [] }) };
  const group = { deleted: false, meta: { id: 1, maxDeliveries: 0 }, partitions: [gp] } as unknown as Group;
  return { group, ack: () => ((gp.committed += 1n), (gp.dirty = true)) };
}

async function setup() {
  const mem = new MemoryStorage();
  await mem.open();
  let writes = 0;
  const batch = mem.batch.bind(mem);
  mem.batch = () => {
    writes++;
    return batch();
  };
  const clock = new ManualClock();
  const queue = new WriteQueue(mem, false);
  const persister = new AckPersister(queue, clock, silent);
  const stored = async () => (await mem.load()).groupPartitions.get("1/0")?.committed;
  return { clock, queue, persister, writes: () => writes, stored };
}

describe("AckPersister", () => {
  it("writes state nobody waits for at once, then at most once per interval", async () => {
    const { clock, queue, persister, writes, stored } = await setup();
    const { group, ack } = fakeGroup();
    ack();
    persister.mark(group);
    await queue.drain();
    expect([writes(), await stored()]).toEqual([1, 1n]);
    ack();
    persister.mark(group);
    ack();
    persister.mark(group);
    await queue.drain();
    expect(writes()).toBe(1);
    clock.advance(ACK_PERSIST_INTERVAL_MS - 1);
    await queue.drain();
    expect(writes()).toBe(1);
    clock.advance(1);
    await queue.drain();
    expect([writes(), await stored()]).toEqual([2, 3n]);
  });

  it("writes at once when someone waits for durability, and on flush", async () => {
    const { queue, persister, writes, stored } = await setup();
    const { group, ack } = fakeGroup();
    ack();
    persister.mark(group);
    await queue.drain();
    ack();
    await persister.mark(group, true);
    expect([writes(), await stored()]).toEqual([2, 2n]);
    ack();
    persister.mark(group);
    await persister.flush();
    expect([writes(), await stored()]).toEqual([3, 3n]);
  });
});
