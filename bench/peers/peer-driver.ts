/**
 * What a peer broker's Node client must do for the shared workloads, and the
 * runner that measures them with the same labels, runs and sizes as Sluice.
 */
import { CONSUME_STREAMS, LABELS, LATENCY_AT_1K, LATENCY_AT_HALF_PEAK, SINGLE_CALLERS } from "../labels.js";
import type { BenchOptions } from "../options.js";
import { randomPayloads, sleep, stampOf, stampedPayload } from "../payloads.js";
import type { Results } from "../results.js";
import { recordLatency } from "../sluice-suite.js";
import { median, type LatencySummary } from "../stats.js";
import { LatencyRecorder, paced } from "../workloads/latency.js";

/** A receiving loop of one stream: calls `onMessage` with each payload; the driver acks it. */
export interface PeerConsumer {
  close(): Promise<void>;
}

export interface PeerDriver {
  /** The system name shown in the table, e.g. "jetstream (node nats)". */
  readonly system: string;
  /** Messages a new group of `topic` would get (RabbitMQ's consumers remove what they ack). */
  backlog(topic: string): Promise<number>;
  /** Makes an empty topic (stream, queue). */
  createTopic(topic: string, size: number): Promise<void>;
  /** One pipelined publisher, the client's own batching/flow control; resolves when all are confirmed. */
  publishBatched(topic: string, payloads: Buffer[], count: number): Promise<void>;
  /** Publishes one message and resolves once the broker confirmed it. */
  publishOne(topic: string, payload: Buffer): Promise<void>;
  /** Opens `streams` consumers of one group (consumer, queue) from the earliest message; each acks what it gets. */
  consume(topic: string, group: string, streams: number, onMessage: (payload: Uint8Array) => void): Promise<PeerConsumer>;
  /** Sends without waiting (for paced latency runs); failures are reported through `onError`. */
  send(topic: string, payload: Buffer, onError: (err: unknown) => void): void;
  close(): Promise<void>;
}

/** Runs publish, consume and latency through `driver`; records rows under `driver.system`. */
export async function runPeerWorkloads(driver: PeerDriver, o: BenchOptions, results: Results): Promise<void> {
  const has = (w: string) => o.only.has(w as never);
  const add = (workload: string, label: string, size: number, runs: number[], unit = "msg/s", better: "higher" | "lower" = "higher") =>
    results.add({ workload, label, size, system: driver.system, unit, better, runs });
  let topicSeq = 0;
  const fresh = async (size: number) => {
    const t = `bench-${size}-${topicSeq++}`;
    await driver.createTopic(t, size);
    return t;
  };
  for (const size of o.sizes) {
    const payloads = randomPayloads(size);
    const backlog = await fresh(size);
    let publishRate: number | undefined;
    let consumeRate: number | undefined;
    if (has("publish-batched") || has("consume")) {
      const runs: number[] = [];
      const count = o.publishCount(size);
      for (let r = 0; r < (has("publish-batched") ? o.runs : 1); r++) {
        const n = has("publish-batched") ? count : Math.max(count, o.consumeCount);
        const t0 = performance.now();
        await driver.publishBatched(backlog, payloads, n);
        runs.push(n / ((performance.now() - t0) / 1000));
      }
      if (has("publish-batched")) publishRate = median(add("publish-batched", LABELS.publishBatched, size, runs).runs);
    }
    if (has("publish-single")) {
      const topic = await fresh(size);
      const runs: number[] = [];
      for (let r = 0; r < o.runs; r++) runs.push(await single(driver, topic, payloads, o.singleSeconds));
      add("publish-single", LABELS.publishSingle, size, runs);
    }
    if (has("consume")) {
      const runs: number[] = [];
      for (let r = 0; r < o.runs; r++) {
        const missing = o.consumeCount - (await driver.backlog(backlog));
        if (missing > 0) await driver.publishBatched(backlog, payloads, missing);
        runs.push(await consumeRate1(driver, backlog, `consume-${r}`, o.consumeCount));
      }
      consumeRate = median(add("consume", LABELS.consume, size, runs).runs);
    }
    if (has("latency")) {
      const rates: Array<[string, number]> = [[LATENCY_AT_1K, 1000]];
      const peak = publishRate !== undefined && consumeRate !== undefined ? Math.min(publishRate, consumeRate) : (publishRate ?? consumeRate);
      if (peak !== undefined) rates.push([LATENCY_AT_HALF_PEAK, Math.round(peak / 2)]);
      for (const [at, rate] of rates) {
        const summaries: LatencySummary[] = [];
        for (let r = 0; r < o.runs; r++) summaries.push(await latency(driver, await fresh(size), size, rate, o.latencySeconds));
        recordLatency(results, driver.system, at, rate, size, summaries);
      }
    }
  }
}

async function single(driver: PeerDriver, topic: string, payloads: Buffer[], seconds: number): Promise<number> {
  const mask = payloads.length - 1;
  let n = 0;
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  const loop = async (k: number) => {
    for (let i = k; performance.now() < end; i += SINGLE_CALLERS) {
      await driver.publishOne(topic, payloads[i & mask]!);
      n++;
    }
  };
  await Promise.all(Array.from({ length: SINGLE_CALLERS }, (_, k) => loop(k)));
  return n / ((performance.now() - t0) / 1000);
}

async function consumeRate1(driver: PeerDriver, topic: string, group: string, count: number): Promise<number> {
  let n = 0;
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  const t0 = performance.now();
  const c = await driver.consume(topic, group, CONSUME_STREAMS, () => {
    if (++n === count) done();
  });
  await finished;
  const rate = count / ((performance.now() - t0) / 1000);
  await c.close();
  return rate;
}

async function latency(driver: PeerDriver, topic: string, size: number, rate: number, seconds: number): Promise<LatencySummary> {
  const template = randomPayloads(Math.max(8, size), 1)[0]!;
  const recorder = new LatencyRecorder();
  let received = 0;
  let expected = Infinity;
  let allIn!: () => void;
  const finished = new Promise<void>((r) => (allIn = r));
  const c = await driver.consume(topic, "latency", 1, (payload) => {
    recorder.record(stampOf(payload));
    if (++received >= expected) allIn();
  });
  let failure: unknown;
  const send = () => driver.send(topic, stampedPayload(template), (err) => (failure ??= err));
  const warm = await paced(rate, 1, send);
  recorder.startAt(performance.now());
  expected = warm + (await paced(rate, seconds, send));
  if (received >= expected) allIn();
  await Promise.race([finished, sleep(10_000)]);
  await c.close();
  if (failure !== undefined) throw failure;
  if (received < expected) throw new Error(`${driver.system} latency: ${expected - received} of ${expected} messages not delivered within 10 s`);
  return recorder.summary();
}
