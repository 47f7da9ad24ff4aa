/**
 * Runs every selected workload against fresh Sluice brokers and records the
 * figures: one broker (fsync never, the default) for throughput, latency,
 * memory and restart; another (fsync always) for the durable publish rows.
 */
import { SluiceClient } from "@sluice/client";
import { removeDir, tempDir } from "./children.js";
import type { GoLoadGenerator } from "./go-load-generator.js";
import type { BenchOptions } from "./options.js";
import { randomPayloads, sleep } from "./payloads.js";
import { cpuMeter, ownCpuMeter, rssBytes } from "./proc-stats.js";
import type { Results } from "./results.js";
import { CONSUME_STREAMS, LABELS, LATENCY_AT_1K, LATENCY_AT_HALF_PEAK, SINGLE_CALLERS } from "./labels.js";
import { SluiceBroker } from "./sluice-broker.js";
import { median, type LatencySummary } from "./stats.js";
import { consumeAck } from "./workloads/consume.js";
import { latency } from "./workloads/latency.js";
import { rssWithStreams, soak } from "./workloads/memory.js";
import { publishBatched, publishSendBatch, publishSingle, publishSingleViaPublisher } from "./workloads/publish.js";

const MEMORY_STREAMS = 100;

/** Peak end-to-end rate per payload size (min of publish and consume), for the "50% of peak" latency row. */
export type Peaks = Map<number, number>;

const backlogTopic = (size: number) => `backlog-${size}`;

async function ensureTopic(client: SluiceClient, name: string, partitions = 1): Promise<void> {
  try {
    await client.createTopic(name, { partitions });
  } catch (err) {
    if ((err as { code?: unknown }).code !== 6) throw err; // ALREADY_EXISTS
  }
}

async function topicEnd(client: SluiceClient, name: string): Promise<number> {
  const t = await client.getTopic(name);
  return t.partitions.reduce((n, p) => n + Number(p.endOffset), 0);
}

/** Publishes (untimed) until `topic` holds `count` messages. */
async function fillTo(client: SluiceClient, topic: string, size: number, count: number, partitions: number): Promise<void> {
  await ensureTopic(client, topic, partitions);
  const missing = count - (await topicEnd(client, topic));
  if (missing > 0) await publishBatched(client, topic, randomPayloads(size), missing);
}

async function warmUp(client: SluiceClient): Promise<void> {
  await ensureTopic(client, "warmup");
  const payloads = randomPayloads(100, 64);
  await publishBatched(client, "warmup", payloads, 200_000);
  await publishSingle(client, "warmup", payloads, SINGLE_CALLERS, 1);
  await consumeAck(client, "warmup", "warmup", { streams: CONSUME_STREAMS, count: 100_000 });
}

/** What a measured row is, as {@link Results.add} takes it, without the runs. */
interface Row {
  readonly workload: string;
  readonly label: string;
  readonly size: number;
  readonly system: string;
  readonly unit: string;
  readonly better: "higher" | "lower";
  readonly extra?: Record<string, unknown>;
}

/** One row and the function that does one run of it (resolving with the row's value). */
interface Series {
  readonly m: Row;
  readonly f: (run: number) => Promise<number>;
}

/**
 * Runs each series `runs` times, interleaved (run 1 of each, then run 2 of
 * each, ...), so that other sessions' load and the broker's background
 * LevelDB compaction fall on every series alike rather than on whichever
 * runs last. Records each series (in the given order) with the broker's CPU
 * use; resolves with the medians.
 */
async function measureInterleaved(results: Results, broker: SluiceBroker, series: readonly Series[], runs: number): Promise<number[]> {
  const values = series.map((): number[] => []);
  const cpu = series.map((): number[] => []);
  const own = series.map((): number[] => []);
  for (let r = 0; r < runs; r++) {
    for (const [i, s] of series.entries()) {
      const meter = cpuMeter(broker.pid);
      const ownMeter = ownCpuMeter();
      values[i]!.push(await s.f(r));
      cpu[i]!.push(meter.stop());
      own[i]!.push(ownMeter.stop());
    }
  }
  return series.map(({ m }, i) => {
    const v = values[i]!;
    const c = cpu[i]!;
    const extra: Record<string, unknown> = { ...m.extra, brokerCores: c.map((x) => Number(x.toFixed(2))) };
    // Broker CPU per message: steadier than the rate when other load shares the cores.
    if (m.unit === "msg/s") {
      extra["brokerCpuUsPerMsg"] = v.map((x, j) => Number(((c[j]! / x) * 1e6).toFixed(2)));
      // The TypeScript client runs in this process and shares the two cores with the broker.
      if (m.extra?.["client"] !== GO_CLIENT.client) extra["clientCpuUsPerMsg"] = v.map((x, j) => Number(((own[i]![j]! / x) * 1e6).toFixed(2)));
    }
    results.add({ ...m, runs: v, extra });
    return median(v);
  });
}

/** Runs `f` `runs` times; records the values and the broker's CPU use. */
async function measure(results: Results, broker: SluiceBroker, m: Row, runs: number, f: (run: number) => Promise<number>): Promise<number> {
  return (await measureInterleaved(results, broker, [{ m, f }], runs))[0]!;
}

/** The extra of rows driven by the Go load generator, so that the JSON tells them apart from the TypeScript client's. */
const GO_CLIENT = { client: "go" } as const;

/**
 * Runs the selected workloads against fresh brokers and records Sluice's
 * rows. With `go`, each publish row (and with --go-consume, the consume row)
 * is followed by the same workload driven by the Go client, on the same
 * topic. Resolves with the peaks for the latency rows (TypeScript client
 * figures only).
 */
export async function runSluice(o: BenchOptions, results: Results, go?: GoLoadGenerator): Promise<Peaks> {
  const peaks: Peaks = new Map();
  const has = (w: string) => o.only.has(w as never);
  const dataDir = tempDir("sluice-bench-");
  let broker = await SluiceBroker.start({ dataDir, fsync: "never", runtime: o.runtime, cpuProfDir: o.cpuProfDir });
  process.stderr.write(`sluice: broker (${o.runtime}, fsync never) listening on ${broker.address} after ${broker.startMs.toFixed(0)} ms\n`);
  let client = new SluiceClient(broker.address);
  if (o.partitions > 1) results.note(`Sluice's topics have ${o.partitions} partitions (--partitions); messages carry no keys and are spread over them`);
  try {
    await warmUp(client);
    const publishRate = new Map<number, number>();
    for (const size of o.sizes) {
      const payloads = randomPayloads(size);
      const topic = backlogTopic(size);
      await ensureTopic(client, topic, o.partitions);
      if (has("publish-batched") || has("publish-send-batch")) {
        const count = o.publishCount(size);
        const m: Row = { workload: "publish-batched", label: LABELS.publishBatched, size, system: "sluice", unit: "msg/s", better: "higher" };
        const series: Series[] = [];
        if (has("publish-batched")) {
          series.push({ m, f: () => publishBatched(client, topic, payloads, count) });
          if (go) series.push({ m: { ...m, label: LABELS.goClient(m.label), extra: GO_CLIENT }, f: () => go.publishBatched(broker.address, topic, size, count) });
        }
        // Interleaved with the per-send row, so that other load falls on both alike;
        // the same workload for the peers' figures (batched publish), another call.
        if (has("publish-send-batch")) {
          series.push({ m: { ...m, label: LABELS.publishSendBatch, extra: { call: "sendBatch" } }, f: () => publishSendBatch(client, topic, payloads, count) });
          if (go) series.push({ m: { ...m, label: LABELS.goClient(LABELS.publishSendBatch), extra: { ...GO_CLIENT, call: "SendBatch" } }, f: () => go.publishSendBatch(broker.address, topic, size, count) });
        }
        const [rate] = await measureInterleaved(results, broker, series, o.runs);
        if (has("publish-batched")) publishRate.set(size, rate!);
      }
      if (has("publish-single")) {
        await ensureTopic(client, `single-${size}`, o.partitions);
        await singleRows(results, broker, client, `single-${size}`, payloads, size, "sluice", o, go);
      }
      if (has("consume")) {
        await fillTo(client, topic, size, o.consumeCount, o.partitions);
        const m: Row = { workload: "consume", label: LABELS.consume, size, system: "sluice", unit: "msg/s", better: "higher" };
        const series: Series[] = [{ m, f: (r) => consumeAck(client, topic, `consume-${r}`, { streams: CONSUME_STREAMS, count: o.consumeCount }) }];
        if (go && o.goConsume) {
          series.push({ m: { ...m, label: LABELS.goClient(m.label), extra: GO_CLIENT }, f: (r) => go.consumeAck(broker.address, topic, `go-consume-${r}`, CONSUME_STREAMS, o.consumeCount) });
        }
        const [rate] = await measureInterleaved(results, broker, series, o.runs);
        peaks.set(size, Math.min(rate!, publishRate.get(size) ?? rate!));
      } else if (publishRate.has(size)) peaks.set(size, publishRate.get(size)!);
      if (has("latency")) {
        const rates: Array<[string, number]> = [[LATENCY_AT_1K, 1000]];
        const peak = peaks.get(size);
        if (peak !== undefined) rates.push([LATENCY_AT_HALF_PEAK, Math.round(peak / 2)]);
        else results.note(`latency at 50% of peak (${size} B) skipped: run publish-batched or consume too`);
        for (const [name, rate] of rates) {
          await latencyRows(results, broker, client, name, rate, size, o);
        }
      }
    }
    if (has("memory") || has("restart")) {
      const size = o.sizes[0]!;
      if (o.backlog !== undefined) {
        // Topped up on the first size's topic; the others keep what they hold.
        let other = 0;
        for (const s of o.sizes.slice(1)) other += await topicEnd(client, backlogTopic(s)).catch(() => 0);
        await fillTo(client, backlogTopic(size), size, o.backlog - other, o.partitions);
      }
      let backlog = 0;
      for (const s of o.sizes) backlog += await topicEnd(client, backlogTopic(s)).catch(() => 0);
      if (backlog === 0) {
        await fillTo(client, backlogTopic(size), size, o.consumeCount, o.partitions);
        backlog = await topicEnd(client, backlogTopic(size));
      }
      await client.close();
      const before = rssBytes(broker.pid);
      broker = await broker.restart();
      client = new SluiceClient(broker.address);
      const label = `${(backlog / 1e6).toFixed(1)}M msgs on disk`;
      results.note(`memory/restart backlog: ${backlog} messages (${o.backlog !== undefined ? "--backlog/--long" : "what this run published; --long uses 10M"}); RSS before restart ${(before / 1e6).toFixed(0)} MB`);
      if (has("restart")) {
        results.add({ workload: "restart", label: `restart, ${label}`, size: 0, system: "sluice", unit: "s", better: "lower", runs: [broker.startMs / 1000] });
      }
      if (has("memory")) {
        await sleep(1000);
        results.add({ workload: "memory-idle", label: `RSS idle, ${label}`, size: 0, system: "sluice", unit: "MB", better: "lower", runs: [rssBytes(broker.pid) / 1e6] });
        const { peak, acked } = await rssWithStreams(client, broker.pid, backlogTopic(size), MEMORY_STREAMS, 6);
        results.add({ workload: "memory-streams", label: `RSS peak, ${label}, ${MEMORY_STREAMS} streams consuming`, size: 0, system: "sluice", unit: "MB", better: "lower", runs: [peak / 1e6], extra: { acked } });
        if (o.long) {
          const rate = Math.round((peaks.get(size) ?? 100_000) / 4);
          const s = await soak(client, broker.pid, backlogTopic(size), { streams: MEMORY_STREAMS, rate, minutes: o.soakMinutes, payload: randomPayloads(size, 1)[0]! });
          results.add({ workload: "soak", label: `RSS growth over ${o.soakMinutes}-min soak at ${rate} msg/s`, size, system: "sluice", unit: "MB", better: "lower", runs: [s.growth / 1e6], extra: { samplesMB: s.samples.map((x) => Math.round(x / 1e6)), acked: s.acked } });
        }
      }
    }
  } finally {
    await client.close();
    await broker.stop();
    removeDir(dataDir);
  }
  if (has("fsync")) await runFsync(o, results);
  return peaks;
}

async function latencyRows(results: Results, broker: SluiceBroker, client: SluiceClient, name: string, rate: number, size: number, o: BenchOptions): Promise<void> {
  const summaries = [];
  for (let r = 0; r < o.runs; r++) {
    const topic = `latency-${size}-${rate}-${r}`;
    await ensureTopic(client, topic, o.partitions);
    summaries.push(await latency(client, topic, { rate, seconds: o.latencySeconds, warmupSeconds: 1, size }));
  }
  recordLatency(results, "sluice", name, rate, size, summaries);
  void broker;
}

/** Records p50, p99 and p99.9 rows (medians over runs) of one latency measurement. */
export function recordLatency(results: Results, system: string, at: string, rate: number, size: number, summaries: LatencySummary[]): void {
  if (at === LATENCY_AT_HALF_PEAK) results.note(`${system}: 50% of peak for ${size} B is ${rate.toLocaleString("en-US")} msg/s`);
  for (const q of ["p50", "p99", "p999"] as const) {
    results.add({
      workload: `latency-${at}-${q}`,
      label: LABELS.latency(q, at),
      size,
      system,
      unit: "ms",
      better: "lower",
      runs: summaries.map((s) => s[q]),
      extra: q === "p50" ? { rate, samples: summaries.map((s) => s.count), max: summaries.map((s) => s.max) } : undefined,
    });
  }
}

/**
 * The single-message rows: unary Publish calls, and awaited sends through one
 * Publisher; with `go`, both from the Go client too.
 */
async function singleRows(results: Results, broker: SluiceBroker, client: SluiceClient, topic: string, payloads: Buffer[], size: number, system: string, o: BenchOptions, go?: GoLoadGenerator): Promise<void> {
  const workload = system === "sluice" ? "publish-single" : "fsync-publish-single";
  const m: Row = { workload, label: LABELS.publishSingleUnary, size, system, unit: "msg/s", better: "higher" };
  const series: Series[] = [
    { m, f: () => publishSingle(client, topic, payloads, SINGLE_CALLERS, o.singleSeconds) },
    { m: { ...m, label: LABELS.publishSingleViaPublisher }, f: () => publishSingleViaPublisher(client, topic, payloads, SINGLE_CALLERS, o.singleSeconds) },
  ];
  if (go) {
    series.push({ m: { ...m, label: LABELS.goClient(m.label), extra: GO_CLIENT }, f: () => go.publishUnary(broker.address, topic, size, SINGLE_CALLERS, o.singleSeconds) });
    series.push({ m: { ...m, label: LABELS.goClient(LABELS.publishSingleViaGoPublisher), extra: GO_CLIENT }, f: () => go.publishViaPublisher(broker.address, topic, size, SINGLE_CALLERS, o.singleSeconds) });
  }
  await measureInterleaved(results, broker, series, o.runs);
}

async function runFsync(o: BenchOptions, results: Results): Promise<void> {
  const dataDir = tempDir("sluice-bench-fsync-");
  const broker = await SluiceBroker.start({ dataDir, fsync: "always", runtime: o.runtime });
  process.stderr.write(`sluice: broker (fsync always) listening on ${broker.address}\n`);
  const client = new SluiceClient(broker.address);
  try {
    await warmUp(client);
    for (const size of o.sizes) {
      const payloads = randomPayloads(size);
      await ensureTopic(client, `fsync-${size}`, o.partitions);
      await measure(results, broker, { workload: "fsync-publish-batched", label: LABELS.publishBatched, size, system: "sluice fsync=always", unit: "msg/s", better: "higher" }, o.runs, () =>
        publishBatched(client, `fsync-${size}`, payloads, Math.round(o.publishCount(size) / 4)),
      );
      await singleRows(results, broker, client, `fsync-${size}`, payloads, size, "sluice fsync=always", o);
    }
  } finally {
    await client.close();
    await broker.stop();
    removeDir(dataDir);
  }
}
