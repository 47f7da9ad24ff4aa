/**
 * Consume and ack with the TypeScript client: `streams` subscriptions of one
 * new group read a topic's backlog from the earliest offset; every message is
 * acked. Timed from the first subscribe until `count` messages were acked.
 */
import type { SluiceClient } from "@sluice/client";

export interface ConsumeOptions {
  readonly streams: number;
  readonly count: number;
  /** Per-stream max_in_flight; undefined: the broker's default. */
  readonly maxInFlight?: number;
}

/** Resolves with msg/s. The topic must hold at least `count` messages. */
export async function consumeAck(client: SluiceClient, topic: string, group: string, o: ConsumeOptions): Promise<number> {
  let acked = 0;
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  const t0 = performance.now();
  const subs = Array.from({ length: o.streams }, () =>
    client.subscribe(topic, group, { start: "earliest", maxInFlight: o.maxInFlight, maxLeaseMs: 0 }),
  );
  const readers = subs.map(async (sub) => {
    for await (const m of sub) {
      m.ack();
      if (++acked === o.count) done();
    }
  });
  await finished;
  const seconds = (performance.now() - t0) / 1000;
  await Promise.all(subs.map((s) => s.close()));
  await Promise.all(readers);
  return o.count / seconds;
}
