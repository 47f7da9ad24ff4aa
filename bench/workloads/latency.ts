/**
 * End-to-end latency with the TypeScript client: a Publisher (lingerMs 0, the
 * latency setting) sends at a fixed rate, a subscription of the same process
 * receives and acks; each payload carries its send time, so one clock
 * measures publish-to-delivery. Sends are paced by a 1 ms timer and counted
 * against the schedule, so a late tick sends the messages it owes.
 */
import type { SluiceClient } from "@sluice/client";
import { publisherOptions } from "../publisher-options.js";
import { randomPayloads, sleep, stampOf, stampedPayload } from "../payloads.js";
import { summarize, type LatencySummary } from "../stats.js";

export interface LatencyOptions {
  readonly rate: number;
  readonly seconds: number;
  readonly warmupSeconds: number;
  readonly size: number;
}

/** Paces `send` at `rate` per second for `seconds`; resolves with how many were sent. */
export async function paced(rate: number, seconds: number, send: () => void): Promise<number> {
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  let sent = 0;
  for (let now = t0; now < end; now = performance.now()) {
    const due = Math.floor(((now - t0) * rate) / 1000);
    while (sent < due) {
      send();
      sent++;
    }
    await sleep(1);
  }
  return sent;
}

/** Latency samples (ms) collected by `record` after the warm-up. */
export class LatencyRecorder {
  #samples = new Float64Array(1 << 16);
  #n = 0;
  #from = Infinity;

  /** Samples of messages sent before `at` (performance.now()) are ignored. */
  startAt(at: number): void {
    this.#from = at;
  }

  record(sentAt: number, now = performance.now()): void {
    if (sentAt < this.#from) return;
    if (this.#n === this.#samples.length) {
      const grown = new Float64Array(this.#samples.length * 2);
      grown.set(this.#samples);
      this.#samples = grown;
    }
    this.#samples[this.#n++] = now - sentAt;
  }

  get count(): number {
    return this.#n;
  }

  summary(): LatencySummary {
    return summarize(this.#samples.subarray(0, this.#n));
  }
}

/** Measures publish-to-delivery latency at `rate` on a fresh topic. */
export async function latency(client: SluiceClient, topic: string, o: LatencyOptions): Promise<LatencySummary> {
  const template = randomPayloads(Math.max(8, o.size), 1)[0]!;
  const recorder = new LatencyRecorder();
  const expected = { n: Infinity };
  let received = 0;
  let allIn!: () => void;
  const finished = new Promise<void>((r) => (allIn = r));
  const sub = client.subscribe(topic, "latency", { start: "earliest", maxInFlight: 10_000, maxLeaseMs: 0 });
  const reader = (async () => {
    for await (const m of sub) {
      recorder.record(stampOf(m.payload));
      m.ack();
      if (++received >= expected.n) allIn();
    }
  })();
  const publisher = client.publisher(topic, publisherOptions({ lingerMs: 0 }));
  let failure: unknown;
  const send = () => void publisher.send(stampedPayload(template)).catch((err: unknown) => (failure ??= err));
  const warm = await paced(o.rate, o.warmupSeconds, send);
  recorder.startAt(performance.now());
  expected.n = warm + (await paced(o.rate, o.seconds, send));
  if (received >= expected.n) allIn();
  await Promise.race([finished, sleep(10_000)]);
  await publisher.close();
  await sub.close();
  await reader;
  if (failure !== undefined) throw failure;
  if (received < expected.n) throw new Error(`latency: ${expected.n - received} of ${expected.n} messages were not delivered within 10 s`);
  return recorder.summary();
}
